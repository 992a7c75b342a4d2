import { cosignCheckpoint, formatSignedNote, formatVerifierKey, generateNoteKey, parseSignedNote } from '@tollgate/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

// Regression: one stored witness cosignature with a far-future time made every `GET /api/v1/audit/checkpoint`
// answer 500 (`new Date(signedAt).toISOString()` threw RangeError), so one bad row broke the tenant's checkpoint reads.

const witness = generateNoteKey('witness.test/w1');

function suite(name: string, postgresUrl: string | undefined) {
  describe(`checkpoint reads with an unshowable cosignature time on ${name}`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer({ postgresUrl, config: { ledgerWitnessKeys: [formatVerifierKey(witness, 0x04)] } });
      for (let i = 0; i < 5; i += 1) await t.services.ledger.append(t.tenantA.id, { type: 'bulk.note', data: { i } });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('leaves such a cosignature out of the view and the note, keeps the good one, never 500', async () => {
      const checkpoint = await t.request('GET', '/api/v1/audit/checkpoint', { key: t.tenantA.adminKey });
      expect(checkpoint.status).toBe(200);
      const text = parseSignedNote(checkpoint.body.note).text;
      const signedAt = Math.floor(Date.now() / 1000);
      const cosig = cosignCheckpoint(text, witness.name, witness.privateKey, witness.publicKey, signedAt);
      const note = formatSignedNote({ text, signatures: [...parseSignedNote(checkpoint.body.note).signatures, cosig] });
      const cosigned = await t.request('POST', '/api/v1/audit/checkpoint/cosign', { key: t.tenantA.adminKey, body: { note } });
      expect(cosigned.body).toEqual({ size: checkpoint.body.size, accepted: [witness.name] });
      // Rows as an older server stored them (it accepted any signed time up to 2^53 seconds).
      const goodLine = (await t.store.ledger.cosignatures(t.tenantA.id, checkpoint.body.size))[0]!.signatureLine;
      for (const [witnessName, ms] of [['witness.test/far', 9_007_199_254_740_991_000], ['witness.test/edge', 8_640_000_000_000_001]] as const) {
        await t.store.ledger.insertCosignature(t.tenantA.id, {
          size: checkpoint.body.size, witness: witnessName, signatureLine: goodLine.replace(witness.name, witnessName), signedAt: ms,
        }, Date.now());
      }
      expect(await t.store.ledger.cosignatures(t.tenantA.id, checkpoint.body.size)).toHaveLength(3);

      const after = await t.request('GET', '/api/v1/audit/checkpoint', { key: t.tenantA.adminKey });
      expect(after.status, JSON.stringify(after.body)).toBe(200);
      expect(after.body.cosignatures).toEqual([{ witness: witness.name, signedAt: new Date(signedAt * 1000).toISOString() }]);
      expect(after.body.note).toContain(`— ${witness.name} `);
      expect(after.body.note).not.toContain('witness.test/far');
      expect(after.body.note).not.toContain('witness.test/edge');
      const asNote = await t.request('GET', '/api/v1/audit/checkpoint?format=note', { key: t.tenantA.adminKey });
      expect(asNote.status).toBe(200);
      expect(asNote.body).toBe(after.body.note);
      const verified = await t.request('GET', '/api/v1/audit/records/0/verify', { key: t.tenantA.adminKey });
      expect(verified.status).toBe(200);
      expect(verified.body.verified).toBe(true);
    });
  });
}

suite('SQLite', undefined);
const pgUrl = postgresTestUrl('ledger cosignature time');
if (pgUrl) suite('PostgreSQL', pgUrl);
