import { randomBytes } from 'node:crypto';

/**
 * Time-ordered ids (`dec_<ms base36><counter><random>`): new rows land at the end of the (tenant, id)
 * index instead of at random places, which keeps group commits cheap. The random tail keeps them unguessable.
 * The counter orders ids made in the same millisecond. It is shared by every tenant, so it counts nothing across
 * milliseconds: it starts at a random value each millisecond and grows by a random step of 1 to 64, so two of a
 * tenant's own ids do not tell how many decisions other tenants were given in between (they did, exactly).
 */
export class IdGenerator {
  private counter = 0;
  private millisecond = -1;
  /** 512 random tails at a time, already encoded: 9 random bytes are exactly 12 base64url characters. */
  private pool = '';
  private offset = 0;

  next(prefix: string, now: number): string {
    const noise = this.randomByte();
    if (now !== this.millisecond) {
      this.millisecond = now;
      // Up to 2^19 at the start leaves room for over 17,000 ids in one millisecond below 36^4.
      this.counter = ((noise << 11) | (this.randomByte() << 3)) & 0x7ffff;
    } else {
      this.counter = (this.counter + 1 + (noise & 63)) % 1_679_616;
    }
    return `${prefix}_${now.toString(36).padStart(9, '0')}${this.counter.toString(36).padStart(4, '0')}${this.random()}`;
  }

  private bytes: Buffer = Buffer.alloc(0);
  private byteOffset = 0;

  private randomByte(): number {
    if (this.byteOffset >= this.bytes.length) {
      this.bytes = randomBytes(1024);
      this.byteOffset = 0;
    }
    return this.bytes[this.byteOffset++]!;
  }

  private random(): string {
    if (this.offset + 12 > this.pool.length) {
      this.pool = randomBytes(9 * 512).toString('base64url');
      this.offset = 0;
    }
    const tail = this.pool.slice(this.offset, this.offset + 12);
    this.offset += 12;
    return tail;
  }
}
