import { randomBytes } from 'node:crypto';

/**
 * Time-ordered ids (`dec_<ms base36><counter><random>`): new rows land at the end of the (tenant, id)
 * index instead of at random places, which keeps group commits cheap. The random tail keeps them unguessable.
 */
export class IdGenerator {
  private counter = 0;
  /** 512 random tails at a time, already encoded: 9 random bytes are exactly 12 base64url characters. */
  private pool = '';
  private offset = 0;

  next(prefix: string, now: number): string {
    this.counter = (this.counter + 1) % 1_679_616;
    return `${prefix}_${now.toString(36).padStart(9, '0')}${this.counter.toString(36).padStart(4, '0')}${this.random()}`;
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
