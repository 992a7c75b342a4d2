import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosignCheckpoint, formatSignedNote, formatVerifierKey, generateNoteKey, merkle, openCheckpoint, parseSignedNote, parseVerifierKey } from '@tollgate/core';
import { postgresTestUrl, startTestServer } from '../../../test-utils/index.js';
import type { TestServer } from '../../../test-utils/index.js';

const witness = generateNoteKey('witness.test/w1');

function auditSuite(name: string, postgresUrl: string | undefined) {
  describe(`audit API on ${name}`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer({ postgresUrl, config: { ledgerWitnessKeys: [formatVerifierKey(witness, 0x04)] } });
      const ledger = t.services.ledger;
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          ledger.append(t.tenantA.id, { type: i % 3 === 0 ? 'enforce.violation' : 'sandbox.host_call', agentId: `agent-${i % 2}`, executionId: i < 10 ? 'exec-1' : 'exec-2', isViolation: i % 3 === 0, data: { n: i, toolName: 'send_email' } }),
        ),
      );
      await ledger.append(t.tenantB.id, { type: 'enforce.violation', agentId: 'agent-0', isViolation: true, data: { secretOfB: true } });
    });
    afterAll(async () => t?.close());

    const get = (path: string, key = t.tenantA.adminKey) => t.request('GET', path, { key });

    it('records the creation of API keys in the ledger', async () => {
      const res = await get('/api/v1/audit/records?actionTypes=api_key.created');
      expect(res.status).toBe(200);
      expect(res.body.events.length).toBeGreaterThanOrEqual(1);
      expect(res.body.events[0]).toMatchObject({ type: 'api_key.created', action_type: 'api_key.created', tenantId: t.tenantA.id });
    });

    it('filters by type, violations, agent and execution, oldest first, with paging', async () => {
      const all = await get('/api/v1/audit/records?actionTypes=enforce.violation,sandbox.host_call&limit=1000');
      expect(all.body.total).toBe(30);
      const violations = await get('/api/v1/audit/records?violationsOnly=true&agentId=agent-0&limit=1000');
      expect(violations.body.events.map((e: { data: { n: number } }) => e.data.n)).toEqual([0, 6, 12, 18, 24]);
      expect(violations.body.events[0]).toMatchObject({ is_violation: true, action_category: 'enforce', agent_id: 'agent-0' });
      const exec = await get('/api/v1/audit/records?executionId=exec-1&limit=4');
      expect(exec.body.events).toHaveLength(4);
      const next = await get(`/api/v1/audit/records?executionId=exec-1&limit=4&cursor=${exec.body.nextCursor}`);
      expect(next.body.events[0].data.n).toBe(4);
      const future = await get('/api/v1/audit/records?from=2999-01-01');
      expect(future.body).toMatchObject({ events: [], total: 0 });
    });

    it('never shows another tenant its records', async () => {
      const res = await get('/api/v1/audit/records?limit=1000', t.tenantB.adminKey);
      expect(JSON.stringify(res.body)).not.toContain('send_email');
      const mine = await get('/api/v1/audit/records?limit=1000');
      expect(JSON.stringify(mine.body)).not.toContain('secretOfB');
    });

    it('serves a signed checkpoint and proofs that verify against it', async () => {
      const cp = await get('/api/v1/audit/checkpoint');
      expect(cp.status).toBe(200);
      const key = parseVerifierKey(cp.body.publicKey);
      const opened = openCheckpoint(cp.body.note, key, cp.body.origin);
      expect(opened.size).toBe(cp.body.size);
      const records = await get('/api/v1/audit/records?limit=1000');
      const target = records.body.events.find((e: { data: { n?: number } }) => e.data.n === 7);
      const proof = await get(`/api/v1/audit/proof/inclusion?index=${target.index}`);
      expect(proof.status).toBe(200);
      expect(merkle.verifyInclusion(merkle.fromHex(proof.body.leafHash), target.index, proof.body.size, proof.body.proof.map(merkle.fromHex), opened.rootHash)).toBe(true);
      const note = await t.request('GET', '/api/v1/audit/checkpoint?format=note', { key: t.tenantA.adminKey });
      expect(note.headers.get('content-type')).toContain('text/plain');
      expect(note.body).toBe(cp.body.note);
      await t.services.ledger.append(t.tenantA.id, { type: 'policy.activated', data: { version: 2 } });
      const later = await get('/api/v1/audit/checkpoint');
      const consistency = await get(`/api/v1/audit/proof/consistency?from=${opened.size}&to=${later.body.size}`);
      expect(merkle.verifyConsistency(opened.size, later.body.size, opened.rootHash, merkle.fromHex(later.body.rootHash), consistency.body.proof.map(merkle.fromHex))).toBe(true);
    });

    it('verifies one record (seed verifyAuditRecord)', async () => {
      const res = await get('/api/v1/audit/records/3/verify');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ recordId: 3, verified: true, chain_valid: true, anchor_tx_hash: null });
      expect((await get('/api/v1/audit/records/999999/verify')).body.error.code).toBe('NOT_FOUND');
    });

    it('exports json, csv and summary', async () => {
      const csv = await t.request('GET', '/api/v1/audit/export?format=csv&violationsOnly=true', { key: t.tenantA.adminKey });
      expect(csv.headers.get('content-type')).toContain('text/csv');
      expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="audit-tenant-a-.*\.csv"/);
      expect(csv.headers.get('x-tollgate-truncated')).toBe('false'); // CSV has no body field to say it
      const lines = (csv.body as string).trim().split('\r\n');
      expect(lines[0]).toBe('index,recorded_at,type,actor,agent_id,execution_id,session_id,is_violation,description,data');
      expect(lines).toHaveLength(11);
      const summary = await get('/api/v1/audit/export?format=summary&actionTypes=enforce.violation,sandbox.host_call');
      expect(summary.body).toMatchObject({ total: 30, violations: 10, byType: { 'enforce.violation': 10, 'sandbox.host_call': 20 } });
      const json = await get('/api/v1/audit/export?format=json&agentId=agent-1');
      expect(json.body.events).toHaveLength(15);
    });

    it('accepts a configured witness cosignature and refuses others', async () => {
      const cp = await get('/api/v1/audit/checkpoint');
      const text = parseSignedNote(cp.body.note).text;
      // A witness signs with its own clock: a minute ago (times more than a day ahead are refused).
      const signedAt = Math.floor(Date.now() / 1000) - 60;
      const cosig = cosignCheckpoint(text, witness.name, witness.privateKey, witness.publicKey, signedAt);
      const cosigned = formatSignedNote({ text, signatures: [...parseSignedNote(cp.body.note).signatures, cosig] });
      const res = await t.request('POST', '/api/v1/audit/checkpoint/cosign', { key: t.tenantA.adminKey, body: { note: cosigned } });
      expect(res.body).toEqual({ size: cp.body.size, accepted: ['witness.test/w1'] });
      const after = await get('/api/v1/audit/checkpoint');
      expect(after.body.cosignatures).toEqual([{ witness: 'witness.test/w1', signedAt: new Date(signedAt * 1000).toISOString() }]);
      expect(after.body.note).toContain('— witness.test/w1 ');
      const stranger = generateNoteKey('witness.test/w1');
      const forged = cosignCheckpoint(text, stranger.name, stranger.privateKey, stranger.publicKey, signedAt);
      const bad = await t.request('POST', '/api/v1/audit/checkpoint/cosign', { key: t.tenantA.adminKey, body: { note: formatSignedNote({ text, signatures: [forged] }) } });
      expect(bad.status).toBe(422);
      expect(bad.body.error.code).toBe('LEDGER_COSIGNATURE_INVALID');
      const unknown = generateNoteKey('someone.else');
      const other = cosignCheckpoint(text, unknown.name, unknown.privateKey, unknown.publicKey, 1);
      const res2 = await t.request('POST', '/api/v1/audit/checkpoint/cosign', { key: t.tenantA.adminKey, body: { note: formatSignedNote({ text, signatures: [other] }) } });
      expect(res2.body.error.code).toBe('LEDGER_WITNESS_UNKNOWN');
      const garbage = await t.request('POST', '/api/v1/audit/checkpoint/cosign', { key: t.tenantA.adminKey, body: { note: 'nonsense' } });
      expect(garbage.status).toBe(400);
    });

    it.each([
      ['/api/v1/audit/proof/inclusion?index=100000', 'LEDGER_RANGE_INVALID'],
      ['/api/v1/audit/proof/inclusion?index=2&size=1', 'LEDGER_RANGE_INVALID'],
      ['/api/v1/audit/proof/inclusion?index=-1', 'VALIDATION_FAILED'],
      ['/api/v1/audit/proof/consistency?from=5&to=2', 'LEDGER_RANGE_INVALID'],
      ['/api/v1/audit/records?from=yesterday', 'VALIDATION_FAILED'],
      ['/api/v1/audit/records?limit=5000', 'VALIDATION_FAILED'],
      ['/api/v1/audit/export?format=pdf', 'VALIDATION_FAILED'],
    ])('GET %s → 400 %s', async (path, code) => {
      const res = await get(path);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(code);
    });

    it('needs the audit:read scope', async () => {
      const { token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['enforce'] });
      expect((await get('/api/v1/audit/records', token)).status).toBe(403);
      const reader = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['audit:read'] });
      expect((await get('/api/v1/audit/records', reader.token)).status).toBe(200);
      expect((await t.request('POST', '/api/v1/audit/checkpoint/cosign', { key: reader.token, body: { note: 'x' } })).status).toBe(403);
    });
  });
}

auditSuite('SQLite', undefined);
const pgUrl = postgresTestUrl('audit API');
if (pgUrl) auditSuite('PostgreSQL', pgUrl);
