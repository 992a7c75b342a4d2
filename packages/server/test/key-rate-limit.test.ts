// Per-key request rate limit (TOLLGATE_KEY_RATE_LIMIT / _BURST): a runaway agent loop is refused at the door with
// 429 RATE_LIMITED and Retry-After, before its requests cost a decision write each; other keys, public routes and
// the key itself a moment later are not affected. Off by default.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRateLimiter } from '../src/http/key-rate-limit.js';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

describe('KeyRateLimiter', () => {
  it('lets a burst through, then the steady rate, per key', () => {
    let now = 0;
    const limiter = new KeyRateLimiter(2, 4, () => now);
    expect(Array.from({ length: 5 }, () => limiter.take('a').ok)).toEqual([true, true, true, true, false]);
    const refused = limiter.take('a');
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.retryAfterSeconds).toBeCloseTo(0.5, 5);
    expect(limiter.take('b').ok).toBe(true);
    now += 500; // half a second refills one request at 2 per second
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
    now += 60_000; // never more than the burst
    expect(Array.from({ length: 5 }, () => limiter.take('a').ok)).toEqual([true, true, true, true, false]);
  });

  it('burst 0 means one second worth; a non-positive rate is refused', () => {
    const limiter = new KeyRateLimiter(3, 0, () => 0);
    expect(Array.from({ length: 4 }, () => limiter.take('a').ok)).toEqual([true, true, true, false]);
    expect(() => new KeyRateLimiter(0, 1)).toThrow(RangeError);
  });
});

describe('per-key rate limit on the server', () => {
  let t: TestServer;
  let hammer: string;
  let other: string;

  beforeAll(async () => {
    t = await startTestServer({ config: { keyRateLimit: 2, keyRateBurst: 5 } });
    hammer = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['enforce'] })).token;
    other = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['enforce'] })).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses a key past its burst with 429 RATE_LIMITED and Retry-After; other keys and public routes go on', async () => {
    const enforce = (key: string) => t.request('POST', '/v1/enforce', { key, body: { agentId: 'loop-bot', toolName: 'search', arguments: {}, approvedScope: ['search'] } });
    const answers = [];
    for (let i = 0; i < 6; i += 1) answers.push(await enforce(hammer));
    expect(answers.slice(0, 5).map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    const refused = answers[5]!;
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 'requests_per_key' } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // A refused request records no decision.
    expect(await t.store.decisions.list(t.tenantA.id, { agentId: 'loop-bot', limit: 100 })).toHaveLength(5);
    // Every route of that key counts, a refused scope included; other keys and public routes are not touched.
    expect((await t.request('GET', '/api/v1/auth/whoami', { key: hammer })).status).toBe(429);
    expect((await enforce(other)).status).toBe(200);
    expect((await t.request('GET', '/healthz')).status).toBe(200);
    // Half a second later (2 per second) the key may call again.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await enforce(hammer)).status).toBe(200);
  });
});
