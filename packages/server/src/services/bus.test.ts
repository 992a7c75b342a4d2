import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { createInProcessBus } from './bus.js';
import { createPostgresBus } from './bus-postgres.js';
import { createTestDatabase, postgresTestUrl } from '../../../../test-utils/index.js';

describe('in-process bus', () => {
  it('delivers copies to subscribers of the channel only, and stops after unsubscribe', async () => {
    const bus = createInProcessBus();
    const got: unknown[] = [];
    const off = bus.subscribe('a', (payload) => got.push(payload));
    bus.subscribe('b', () => got.push('wrong channel'));
    const payload = { n: 1 };
    await bus.publish('a', payload);
    payload.n = 2;
    off();
    await bus.publish('a', { n: 3 });
    expect(got).toEqual([{ n: 1 }]);
  });

  it('a throwing listener does not stop others or the publisher', async () => {
    const errors: unknown[] = [];
    const bus = createInProcessBus((error) => errors.push(error));
    const got: unknown[] = [];
    bus.subscribe('a', () => {
      throw new Error('boom');
    });
    bus.subscribe('a', (payload) => got.push(payload));
    await bus.publish('a', 'x');
    expect(got).toEqual(['x']);
    expect(errors).toHaveLength(1);
  });
});

const pgUrl = postgresTestUrl('PostgreSQL bus');
describe.skipIf(!pgUrl)('PostgreSQL LISTEN/NOTIFY bus', () => {
  it('carries messages between two replicas, each delivering its own publishes once', async () => {
    const database = await createTestDatabase(pgUrl ?? '');
    const poolA = new pg.Pool({ connectionString: database.url });
    const poolB = new pg.Pool({ connectionString: database.url });
    const busA = await createPostgresBus({ pool: poolA, connectionString: database.url });
    const busB = await createPostgresBus({ pool: poolB, connectionString: database.url });
    try {
      const seenA: unknown[] = [];
      const seenB: unknown[] = [];
      busA.subscribe('kill', (p) => seenA.push(p));
      busB.subscribe('kill', (p) => seenB.push(p));
      await busA.publish('kill', { agent: 'x' });
      await expect.poll(() => seenB, { timeout: 3_000 }).toEqual([{ agent: 'x' }]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(seenA).toEqual([{ agent: 'x' }]);
      await expect(busA.publish('kill', 'y'.repeat(10_000))).rejects.toThrow(/exceeds/);
    } finally {
      await busA.close();
      await busB.close();
      await poolA.end();
      await poolB.end();
      await database.drop();
    }
  });
});
