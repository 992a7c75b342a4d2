// Adversarial review of the audit trail over HTTP: the live SSE stream, proofs, record verification, exports and
// bundles, attacked by another tenant, by a key that was revoked mid-stream, and by whoever owns the database file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { merkle, openCheckpoint, parseVerifierKey, verifyBundle, verifyBundleLines } from '@tollgate/core';
import { signInDashboard, startTestServer } from '../../../test-utils/index.js';
import type { TestServer } from '../../../test-utils/index.js';

/** Reads an SSE response as text until `ms` pass or the server ends it. */
async function readFor(response: Response, ms: number, into: { text: string; ended: boolean }): Promise<void> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const deadline = Date.now() + ms;
  try {
    while (Date.now() < deadline) {
      const chunk = await Promise.race([reader.read(), new Promise<undefined>((resolve) => setTimeout(resolve, deadline - Date.now()))]);
      if (chunk === undefined) break;
      if (chunk.done) {
        into.ended = true;
        break;
      }
      into.text += decoder.decode(chunk.value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
}

const signIn = (t: TestServer, apiKey: string) => signInDashboard(t.url, apiKey);

describe('adversarial: the audit trail over HTTP', () => {
  let t: TestServer;
  const get = (path: string, key = t.tenantA.adminKey) => t.request('GET', path, { key });

  beforeAll(async () => {
    t = await startTestServer({ config: { auditStreamKeepaliveMs: 100, auditStreamTimeoutMs: 20_000 } });
    for (let i = 0; i < 12; i++) await t.services.ledger.append(t.tenantA.id, { type: 'enforce.decision', agentId: 'agent-a', data: { n: i } });
    for (let i = 0; i < 40; i++) await t.services.ledger.append(t.tenantB.id, { type: 'enforce.decision', agentId: 'agent-b', data: { secretOfB: i } });
  });
  afterAll(async () => t?.close());

  describe('the live stream stops serving a credential that no longer stands', () => {
    // Regression: authentication ran once, when the stream opened; a key revoked (or a session signed out) kept
    // receiving every new record of its tenant until the stream's 10-minute timeout.
    it('ends the stream of a revoked API key before it sends a record committed after the revocation', async () => {
      const { token, record } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['audit:read'], name: 'stream reader' });
      const response = await fetch(`${t.url}/api/sdk/audit/stream`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      const seen = { text: '', ended: false };
      await readFor(response, 300, seen);
      expect(seen.text).toContain('event: connected');
      await t.services.keys.revoke(t.tenantA.id, record.id);
      await t.services.ledger.append(t.tenantA.id, { type: 'secret.after_revoke', data: { leaked: true } });
      await readFor(response, 1_000, seen);
      expect(seen.text).not.toContain('secret.after_revoke');
      expect(seen.text).toContain('"code":"UNAUTHENTICATED"');
      expect(seen.ended).toBe(true);
    });

    it('ends the stream of a revoked key at the next keepalive even when no record arrives', async () => {
      const { token, record } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['audit:read'], name: 'idle reader' });
      const response = await fetch(`${t.url}/api/sdk/audit/stream`, { headers: { authorization: `Bearer ${token}` } });
      const seen = { text: '', ended: false };
      await readFor(response, 200, seen);
      await t.services.keys.revoke(t.tenantA.id, record.id);
      await readFor(response, 1_000, seen);
      expect(seen.ended).toBe(true);
    });

    it('ends the stream of a dashboard session that signed out', async () => {
      const { token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['audit:read'], name: 'dashboard user' });
      const session = await signIn(t, token);
      const response = await fetch(`${t.url}/api/sdk/audit/stream`, { headers: { cookie: session.cookie } });
      expect(response.status).toBe(200);
      const seen = { text: '', ended: false };
      await readFor(response, 200, seen);
      const out = await fetch(`${t.url}/api/v1/session`, { method: 'DELETE', headers: { cookie: session.cookie, 'x-csrf-token': session.csrf } });
      expect(out.status).toBeLessThan(300);
      await t.services.ledger.append(t.tenantA.id, { type: 'secret.after_signout', data: { leaked: true } });
      await readFor(response, 1_000, seen);
      expect(seen.text).not.toContain('secret.after_signout');
      expect(seen.ended).toBe(true);
    });

    it('keeps streaming for a key that still stands (held)', async () => {
      const { token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['audit:read'], name: 'steady reader' });
      const response = await fetch(`${t.url}/api/sdk/audit/stream`, { headers: { authorization: `Bearer ${token}` } });
      const seen = { text: '', ended: false };
      await readFor(response, 300, seen);
      await t.services.ledger.append(t.tenantA.id, { type: 'still.visible', data: {} });
      await readFor(response, 500, seen);
      expect(seen.text).toContain('still.visible');
      expect(seen.ended).toBe(false);
      await response.body?.cancel();
    });

    it("never streams another tenant's records, whatever Last-Event-ID says (held)", async () => {
      const response = await fetch(`${t.url}/api/sdk/audit/stream`, { headers: { authorization: `Bearer ${t.tenantA.adminKey}`, 'last-event-id': '0' } });
      const seen = { text: '', ended: false };
      await readFor(response, 300, seen);
      await t.services.ledger.append(t.tenantB.id, { type: 'b.only', data: { secretOfB: 'live' } });
      await readFor(response, 300, seen);
      expect(seen.text).toContain('"tenantId":"tenant-a"');
      expect(seen.text).not.toContain('secretOfB');
      expect(seen.text).not.toContain('"tenantId":"tenant-b"');
      await response.body?.cancel();
    });
  });

  describe("another tenant's ledger indexes (held)", () => {
    it("answers proofs, verification and bundles from the caller's own log only", async () => {
      const size = (await get('/api/v1/audit/checkpoint')).body.size as number;
      expect(size).toBeLessThan(40);
      // Index 30 exists in B's log only.
      expect((await get('/api/v1/audit/proof/inclusion?index=30')).body.error.code).toBe('LEDGER_RANGE_INVALID');
      expect((await get('/api/v1/audit/proof/inclusion?index=3&size=35')).body.error.code).toBe('LEDGER_RANGE_INVALID');
      expect((await get('/api/v1/audit/proof/consistency?from=1&to=35')).body.error.code).toBe('LEDGER_RANGE_INVALID');
      expect((await get('/api/v1/audit/records/30/verify')).status).toBe(404);
      const verified = await get('/api/v1/audit/records/3/verify');
      expect(verified.body.verified).toBe(true);
      expect(JSON.stringify(verified.body)).not.toContain('secretOfB');
      const bundle = await get('/api/v1/audit/bundle');
      expect(JSON.stringify(bundle.body)).not.toContain('secretOfB');
      for (const path of ['/api/v1/audit/export?format=json', '/api/v1/audit/export?format=csv', '/api/v1/audit/export?format=summary', '/api/v1/audit/records?cursor=11&limit=1000']) {
        const res = await get(path);
        expect(res.status).toBe(200);
        expect(JSON.stringify(res.body)).not.toContain('secretOfB');
        expect(JSON.stringify(res.body)).not.toContain('agent-b');
      }
    });

    it("does not accept tenant B's checkpoint as tenant A's", async () => {
      const a = (await get('/api/v1/audit/checkpoint')).body;
      const b = (await get('/api/v1/audit/checkpoint', t.tenantB.adminKey)).body;
      expect(a.origin).not.toBe(b.origin);
      expect(() => openCheckpoint(b.note, parseVerifierKey(a.publicKey))).toThrow();
      const cosign = await t.request('POST', '/api/v1/audit/checkpoint/cosign', { key: t.tenantA.adminKey, body: { note: b.note } });
      expect(cosign.status).toBe(404);
    });
  });

  describe('exports (held)', () => {
    it('neutralises spreadsheet formulas in every CSV cell a caller can influence', async () => {
      const tenant = await t.createTenant('csv-tenant');
      // `ok;=cmd…`: a spreadsheet whose list separator is `;` split an unquoted cell there (session 12 red team).
      const evil = ['=HYPERLINK("http://evil.example","x")', '+cmd|calc', '-2+3', '@SUM(A1)', '\t=1+1', '\r=1+1', "ok;=cmd|' /C calc'!A0;", 'a\t=1+1'];
      for (const value of evil) {
        await t.services.ledger.append(tenant.id, { type: 'x.csv', actor: value, agentId: value, executionId: value, sessionId: value, data: { description: value } });
      }
      const res = await fetch(`${t.url}/api/v1/audit/export?format=csv`, { headers: { authorization: `Bearer ${tenant.adminKey}` } });
      const text = await res.text();
      const cells = text.split('\r\n').slice(1, -1).flatMap((line) => line.match(/("([^"]|"")*"|[^,]*)/g)!.filter((c) => c !== ''));
      for (const cell of cells) {
        const value = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
        expect(value, cell).not.toMatch(/^[=+\-@\t\r]/);
        // Text that a `;` or tab separator could split is always inside quotes.
        if (/[;\t]/.test(value)) expect(cell.startsWith('"'), cell).toBe(true);
      }
    });

    it.each([
      '/api/v1/audit/export?from=2026-13-01',
      '/api/v1/audit/export?to=yesterday',
      '/api/v1/audit/export?format=xlsx',
      '/api/v1/audit/export?format=csv&format=json',
      '/api/v1/audit/export?violationsOnly=maybe',
      '/api/v1/audit/export?actionTypes=permission_denied,policy.activated',
      '/api/v1/audit/records?limit=100000',
      '/api/v1/audit/records?cursor=-1',
      '/api/v1/audit/records?cursor=12345678901234567',
      '/api/v1/audit/proof/inclusion?index=1&index=2',
      '/api/v1/audit/proof/inclusion?index=-1',
      '/api/v1/audit/proof/inclusion?index=0&size=0',
      '/api/v1/audit/proof/inclusion?index=99999999999999999999',
      '/api/v1/audit/records?from=2026-02-30',
      '/api/v1/audit/export?to=2026-04-31T10:00:00Z',
      '/api/v1/audit/proof/consistency?from=5&to=2',
      '/api/v1/audit/records/1.5/verify',
      '/api/sdk/audit/stream?since=not-a-time',
    ])('answers %s with a 4xx and a machine-readable code', async (path) => {
      const res = await get(path);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body.error.code).toMatch(/^(VALIDATION_FAILED|LEDGER_RANGE_INVALID)$/);
    });
  });

  describe('a tampered database (held: detected against checkpoints kept outside)', () => {
    const exec = (sql: string) => (t.store.native as { database: { exec(sql: string): void } }).database.exec(sql);

    it('detects a deleted tail and a reordered pair through the bundle and the verify route', async () => {
      const tenant = await t.createTenant('tamper-tenant');
      for (let i = 0; i < 20; i++) await t.services.ledger.append(tenant.id, { type: 'enforce.decision', data: { n: i } });
      const kept = (await get('/api/v1/audit/checkpoint', tenant.adminKey)).body;
      exec('DROP TRIGGER ledger_records_no_update');
      exec('DROP TRIGGER ledger_records_no_delete');
      try {
        const rows = t.store.native as { database: { prepare(sql: string): { all(...args: unknown[]): { idx: number; body: string }[]; run(...args: unknown[]): unknown } } };
        const [first, second] = rows.database.prepare('SELECT idx, body FROM ledger_records WHERE tenant_id = ? AND idx IN (4, 5) ORDER BY idx').all(tenant.id);
        const update = rows.database.prepare('UPDATE ledger_records SET body = ? WHERE tenant_id = ? AND idx = ?');
        update.run(second!.body, tenant.id, 4);
        update.run(first!.body, tenant.id, 5);
        rows.database.prepare('DELETE FROM ledger_records WHERE tenant_id = ? AND idx = ?').run(tenant.id, kept.size - 1);
        rows.database.prepare('DELETE FROM ledger_records WHERE tenant_id = ? AND idx = ?').run(tenant.id, 10);
        // Regression: a proof needing a deleted record threw the node reader's RangeError, a 500; verifying a record
        // is now a plain failed verification, and a proof says with a code that the stored log lacks rows.
        const v = await get('/api/v1/audit/records/4/verify', tenant.adminKey);
        expect(v.status).toBe(200);
        expect(v.body).toMatchObject({ verified: false, chain_valid: false });
        const nine = await get('/api/v1/audit/records/9/verify', tenant.adminKey);
        expect(nine.status).toBe(200);
        expect(nine.body.verified).toBe(false);
        const proof8 = await get(`/api/v1/audit/proof/inclusion?index=8&size=${kept.size - 1}`, tenant.adminKey);
        expect(proof8.status).toBe(409);
        expect(proof8.body.error.code).toBe('CONFLICT');
        const bundle = (await get('/api/v1/audit/bundle', tenant.adminKey)).body;
        const result = verifyBundle(bundle, { trustedCheckpoint: kept.note, expectedPublicKey: kept.publicKey });
        expect(result.ok).toBe(false);
        expect(result.problems.map((p) => p.code)).toEqual(expect.arrayContaining(['RECORD_OUT_OF_ORDER', 'ROLLBACK']));
        // The same through a streaming bundle: whatever the server manages to send fails verification.
        const lines: string[] = [];
        let streamError: unknown;
        try {
          for await (const line of (await t.services.ledger.bundleLines(tenant.id)).lines) lines.push(line);
        } catch (error) {
          streamError = error;
        }
        const streamed = await verifyBundleLines(lines, { trustedCheckpoint: kept.note, expectedPublicKey: kept.publicKey });
        expect(streamed.ok).toBe(false);
        expect(streamed.problems.map((p) => p.code)).toEqual(expect.arrayContaining(['RECORD_OUT_OF_ORDER']));
        if (streamError !== undefined) expect(streamError).toMatchObject({ code: 'CONFLICT' });
        // Over HTTP the response is cut off rather than completed, and the server carries on.
        const response = await fetch(`${t.url}/api/v1/audit/bundle?format=jsonl`, { headers: { authorization: `Bearer ${tenant.adminKey}` } });
        const text = await response.text().catch(() => '');
        expect((await verifyBundleLines(text.split('\n').filter((line) => line !== ''))).ok).toBe(false);
        expect((await get('/api/v1/audit/checkpoint', tenant.adminKey)).status).toBe(200);
        // The log's root at the kept size can no longer be produced: the server cannot re-sign the past.
        const proof = await get(`/api/v1/audit/proof/consistency?from=${kept.size - 1}&to=${kept.size - 1}`, tenant.adminKey);
        expect(proof.body.toRootHash).not.toBe(kept.rootHash);
        expect(merkle.fromHex(kept.rootHash)).toHaveLength(32);
      } finally {
        exec(`CREATE TRIGGER ledger_records_no_update BEFORE UPDATE ON ledger_records BEGIN SELECT RAISE(ABORT, 'ledger_records is append-only: UPDATE refused'); END`);
        exec(`CREATE TRIGGER ledger_records_no_delete BEFORE DELETE ON ledger_records BEGIN SELECT RAISE(ABORT, 'ledger_records is append-only: DELETE refused'); END`);
      }
    });
  });
});
