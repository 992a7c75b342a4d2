import { expect, it } from 'vitest';
import { describeStoreConformance } from '../../../../../test-utils/index.js';

describeStoreConformance('ledger checkpoints', (getStore) => {
  it('lists checkpoints ascending by size, bounded above and below, per tenant, and keeps the first of a size', async () => {
    const store = getStore();
    for (const id of ['cp-a', 'cp-b']) await store.tenants.create({ id, name: id, createdAt: 1 });
    const checkpoint = (size: number, note = `note ${size}`) => ({ size, rootHash: new Uint8Array(32).fill(size % 256), note, createdAt: size });
    for (const size of [3000, 0, 1000, 2000, 4000]) await store.ledger.insertCheckpoint('cp-a', checkpoint(size));
    await store.ledger.insertCheckpoint('cp-b', checkpoint(1000, 'other tenant'));
    // Replicas race to sign one size: the first stays.
    await store.ledger.insertCheckpoint('cp-a', checkpoint(2000, 'second signer'));
    const sizes = async (max?: number, min?: number) => (await store.ledger.checkpoints('cp-a', max, min)).map((cp) => cp.size);
    expect(await sizes()).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(await sizes(2500)).toEqual([0, 1000, 2000]);
    expect(await sizes(3000, 1000)).toEqual([1000, 2000, 3000]);
    expect(await sizes(2000, 2000)).toEqual([2000]);
    expect(await sizes(2500, 2001)).toEqual([]);
    const [exact] = await store.ledger.checkpoints('cp-a', 2000, 2000);
    expect(exact?.note).toBe('note 2000');
    expect(Array.from(exact?.rootHash ?? [])).toEqual(Array.from(new Uint8Array(32).fill(2000 % 256)));
    expect((await store.ledger.checkpoints('cp-b', 1000, 1000)).map((cp) => cp.note)).toEqual(['other tenant']);
  });
});
