import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatVerifierKey, generateNoteKey, signCheckpoint, merkle, recordLeafHash, toLedgerRecord } from '@tollgate/core';
import type { LedgerBundle, LedgerRecord } from '@tollgate/core';
import { postgresTestUrl, startTestServer } from '../../../test-utils/index.js';
import type { TestServer } from '../../../test-utils/index.js';
import { runCliCaptured } from './run-cli.js';

type Bundle = LedgerBundle & { records: LedgerRecord[]; checkpoints: string[] };
type Tamper = (bundle: Bundle) => void;

const reindex = (bundle: Bundle) => bundle.records.forEach((r, i) => (bundle.records[i] = { ...r, index: i }));

// Every tamper case of issue 5, applied to a bundle exported from a real server.
const TAMPERS: [string, Tamper, string][] = [
  ['an edited record', (b) => (b.records[4] = { ...(b.records[4] as LedgerRecord), data: { n: 'edited' } }), 'CHECKPOINT_ROOT_MISMATCH'],
  ['a deleted record', (b) => { b.records.splice(4, 1); reindex(b); }, 'CHECKPOINT_ROOT_MISMATCH'],
  ['a swapped pair', (b) => { const [x, y] = [b.records[4]!, b.records[5]!]; b.records[4] = { ...y, index: 4 }; b.records[5] = { ...x, index: 5 }; }, 'CHECKPOINT_ROOT_MISMATCH'],
  ['an inserted record', (b) => { b.records.splice(4, 0, toLedgerRecord(b.records[0]!.tenantId, 4, b.records[4]!.recordedAt, { type: 'approval.granted', data: {} })); reindex(b); }, 'CHECKPOINT_ROOT_MISMATCH'],
  ['a truncated tail', (b) => { b.records.length -= 3; }, 'CHECKPOINT_BEYOND_RECORDS'],
  ['a forged checkpoint', (b) => { const lines = b.checkpoints.at(-1)!.split('\n'); lines[2] = merkle.toBase64(merkle.hashLeaf(new Uint8Array([1]))); b.checkpoints[b.checkpoints.length - 1] = lines.join('\n'); }, 'CHECKPOINT_SIGNATURE_INVALID'],
  ['a checkpoint signed by another key', (b) => {
    const root = merkle.rootHash(b.records.map(recordLeafHash));
    b.checkpoints.push(signCheckpoint({ origin: b.origin, size: b.records.length, rootHash: root, extensions: [] }, generateNoteKey(b.origin)));
  }, 'CHECKPOINT_SIGNATURE_INVALID'],
];

const cli = runCliCaptured;

function suite(name: string, postgresUrl: string | undefined) {
  describe(`tollgate audit on ${name}`, () => {
    let t: TestServer;
    let dir: string;
    let bundlePath: string;
    let trustedPath: string;
    beforeAll(async () => {
      t = await startTestServer({ postgresUrl });
      dir = await mkdtemp(join(tmpdir(), 'tollgate-audit-cli-'));
      for (let round = 0; round < 3; round++) {
        await Promise.all(Array.from({ length: 8 }, (_, i) => t.services.ledger.append(t.tenantA.id, { type: 'enforce.decision', agentId: 'a', data: { n: round * 8 + i } })));
        await t.services.ledger.checkpoint(t.tenantA.id);
      }
      bundlePath = join(dir, 'bundle.json');
      trustedPath = join(dir, 'trusted.txt');
      const exported = await cli('audit', 'export', '--format', 'json', '--url', t.url, '--api-key', t.tenantA.adminKey, '--out', bundlePath);
      expect(exported.code).toBe(0);
      const bundle = JSON.parse(await readFile(bundlePath, 'utf8')) as Bundle;
      await writeFile(trustedPath, bundle.checkpoints.at(-1)!);
    });
    afterAll(async () => {
      await t?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('exports a bundle that verifies offline, also against the checkpoint kept at export', async () => {
      const result = await cli('audit', 'verify', bundlePath, '--trusted-checkpoint', trustedPath);
      expect(result.code).toBe(0);
      expect(result.out).toMatch(/^OK: \d+ records, root [0-9a-f]{64}, \d+ checkpoints checked/);
      const bundle = JSON.parse(await readFile(bundlePath, 'utf8')) as Bundle;
      expect(bundle.records.filter((r) => r.type === 'enforce.decision')).toHaveLength(24);
      expect((await cli('audit', 'verify', bundlePath, '--public-key', bundle.publicKey)).code).toBe(0);
    });

    it.each(TAMPERS)('catches %s', async (_name, tamper, code) => {
      const bundle = JSON.parse(await readFile(bundlePath, 'utf8')) as Bundle;
      tamper(bundle);
      const path = join(dir, `tampered-${code}-${Math.random().toString(36).slice(2)}.json`);
      await writeFile(path, JSON.stringify(bundle));
      const result = await cli('audit', 'verify', path);
      expect(result.code).toBe(1);
      expect(result.out).toContain('FAILED');
      expect(result.out).toContain(code);
    });

    // Regression: a number respelled with a fraction or an exponent passed, though Python (Decimal) and Go
    // (json.Number) read the literal as written and JavaScript as the signed value.
    it.each([
      ['a record index with a fraction', '"index":4,', '"index":4.0,'],
      ['a value with an exponent', '"n":5}', '"n":5e0}'],
      ['a value with a fraction JavaScript rounds away', '"n":5}', '"n":5.0000000000000001}'],
    ])('catches %s', async (_name, from, to) => {
      const text = (await readFile(bundlePath, 'utf8')).replace(from, to);
      expect(text).toContain(to);
      const path = join(dir, `respelled-${Math.random().toString(36).slice(2)}.json`);
      await writeFile(path, text);
      const result = await cli('audit', 'verify', path);
      expect(result.code).toBe(1);
      expect(result.out).toMatch(/^FAILED[\s\S]*BUNDLE_AMBIGUOUS: number /);
    });

    it('catches a rollback to an earlier export with the trusted checkpoint', async () => {
      const bundle = JSON.parse(await readFile(bundlePath, 'utf8')) as Bundle;
      const earlier = bundle.checkpoints.findIndex((note) => note.split('\n')[1] !== String(bundle.records.length));
      const size = Number(bundle.checkpoints[earlier]!.split('\n')[1]);
      const rolledBack = { ...bundle, records: bundle.records.slice(0, size), checkpoints: bundle.checkpoints.slice(0, earlier + 1) };
      const path = join(dir, 'rolled-back.json');
      await writeFile(path, JSON.stringify(rolledBack));
      expect((await cli('audit', 'verify', path)).code).toBe(0);
      const result = await cli('audit', 'verify', path, '--trusted-checkpoint', trustedPath);
      expect(result.code).toBe(1);
      expect(result.out).toContain('ROLLBACK');
    });

    it('prints an inclusion proof that verifies', async () => {
      const result = await cli('audit', 'proof', '--index', '3', '--url', t.url, '--api-key', t.tenantA.adminKey);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.out)).toMatchObject({ index: 3, verified: true });
      expect((await cli('audit', 'proof', '--index', '99999', '--url', t.url, '--api-key', t.tenantA.adminKey)).code).toBe(1);
    });

    it('checks the proof against a public key known out of band (--public-key), refusing a server that names another', async () => {
      const { publicKey } = (await t.request('GET', '/api/v1/audit/public-key', { key: t.tenantA.adminKey })).body as { publicKey: string };
      const pinned = await cli('audit', 'proof', '--index', '3', '--url', t.url, '--api-key', t.tenantA.adminKey, '--public-key', publicKey);
      expect(pinned.code).toBe(0);
      expect(JSON.parse(pinned.out)).toMatchObject({ index: 3, verified: true });
      const impostor = formatVerifierKey(generateNoteKey(publicKey.split('+')[0]!)); // same name, another key
      const other = await cli('audit', 'proof', '--index', '3', '--url', t.url, '--api-key', t.tenantA.adminKey, '--public-key', impostor);
      expect(other.code).toBe(1);
      expect(JSON.parse(other.out)).toMatchObject({ verified: false, problem: 'PUBLIC_KEY_MISMATCH' });
      // Something that is not a key at all is said to be so, before anything is fetched.
      const garbage = await cli('audit', 'proof', '--index', '3', '--url', t.url, '--api-key', t.tenantA.adminKey, '--public-key', 'garbage');
      expect(garbage.code).toBe(1);
      expect(garbage.err).toMatch(/^tollgate: VALIDATION_FAILED: --public-key is not a verifier key/);
      expect((await cli('audit', 'proof', '--index', '1.5', '--url', t.url, '--api-key', t.tenantA.adminKey)).err).toContain('--index must be a non-negative integer');
    });

    // Direct database access is the same code on both dialects; one run (SQLite) covers it.
    if (postgresUrl === undefined) it('exports straight from the database with --data-dir', async () => {
      const path = join(dir, 'direct.json');
      const result = await cli('audit', 'export', '--format', 'json', '--data-dir', t.config.dataDir, '--tenant', t.tenantA.id, '--out', path);
      expect(result.code).toBe(0);
      expect((await cli('audit', 'verify', path, '--trusted-checkpoint', trustedPath)).code).toBe(0);
      const lines = join(dir, 'direct.jsonl');
      expect((await cli('audit', 'export', '--data-dir', t.config.dataDir, '--tenant', t.tenantA.id, '--out', lines)).code).toBe(0);
      expect((await readFile(lines, 'utf8')).split('\n')[0]).toContain('"format":"tollgate-ledger-bundle/v2"');
      expect((await cli('audit', 'verify', lines, '--trusted-checkpoint', trustedPath)).code).toBe(0);
    });

    it('exports JSON Lines by default and continues from the checkpoint the last export kept (--from-checkpoint, --checkpoint-out)', async () => {
      const first = join(dir, 'day1.jsonl');
      const kept = join(dir, 'day1-checkpoint.txt');
      const exported = await cli('audit', 'export', '--url', t.url, '--api-key', t.tenantA.adminKey, '--out', first, '--checkpoint-out', kept);
      expect(exported.code).toBe(0);
      expect(exported.err).toMatch(/^wrote \d+ records to /);
      expect(exported.err).toContain('keep this checkpoint');
      expect(exported.err).toContain(await readFile(kept, 'utf8'));
      expect((await cli('audit', 'verify', first, '--trusted-checkpoint', trustedPath)).code).toBe(0);
      const keptSize = Number((await readFile(kept, 'utf8')).split('\n')[1]);

      await Promise.all(Array.from({ length: 5 }, (_, i) => t.services.ledger.append(t.tenantA.id, { type: 'enforce.decision', agentId: 'a', data: { day: 2, n: i } })));
      const second = join(dir, 'day2.jsonl');
      const next = await cli('audit', 'export', '--url', t.url, '--api-key', t.tenantA.adminKey, '--out', second, '--from-checkpoint', kept, '--checkpoint-out', join(dir, 'day2-checkpoint.txt'));
      expect(next.code).toBe(0);
      expect(next.err).toContain(`(from record ${keptSize})`);
      const text = await readFile(second, 'utf8');
      expect(text.split('\n').filter((line) => line.startsWith('{"record":'))).toHaveLength(Number((await readFile(join(dir, 'day2-checkpoint.txt'), 'utf8')).split('\n')[1]) - keptSize);
      const verified = await cli('audit', 'verify', second, '--trusted-checkpoint', kept);
      expect(verified.code).toBe(0);
      expect(verified.out).toContain(`(records ${keptSize}..`);
      // The day-2 file does not prove anything about a checkpoint from before it started.
      const earlier = (await t.services.store.ledger.checkpoints(t.tenantA.id, keptSize - 1)).at(-1)!;
      await writeFile(join(dir, 'earlier-checkpoint.txt'), earlier.note);
      const older = await cli('audit', 'verify', second, '--trusted-checkpoint', join(dir, 'earlier-checkpoint.txt'));
      expect(older.code).toBe(1);
      expect(older.out).toContain('TRUSTED_CHECKPOINT_BEFORE_BUNDLE');
    });

    it('catches edits and truncation of a JSON Lines bundle', async () => {
      const path = join(dir, 'whole.jsonl');
      expect((await cli('audit', 'export', '--url', t.url, '--api-key', t.tenantA.adminKey, '--out', path)).code).toBe(0);
      const lines = (await readFile(path, 'utf8')).split('\n');
      const at = lines.findIndex((line) => line.includes('"n":4'));
      const edited = [...lines];
      edited[at] = (edited[at] as string).replace('"n":4', '"n":5');
      await writeFile(join(dir, 'edited.jsonl'), edited.join('\n'));
      const result = await cli('audit', 'verify', join(dir, 'edited.jsonl'));
      expect(result.code).toBe(1);
      expect(result.out).toContain('CHECKPOINT_ROOT_MISMATCH');
      await writeFile(join(dir, 'cut.jsonl'), lines.slice(0, at).join('\n'));
      const cut = await cli('audit', 'verify', join(dir, 'cut.jsonl'));
      expect(cut.code).toBe(1);
      expect(cut.out).toContain('BUNDLE_INCOMPLETE');
    });

    it('refuses bad export flags with a message, and a start beyond the log with the server\'s code', async () => {
      const bad = await cli('audit', 'export', '--format', 'xml', '--url', t.url, '--api-key', t.tenantA.adminKey);
      expect(bad.code).not.toBe(0);
      expect(bad.err).toContain('--format must be jsonl or json');
      const mixed = await cli('audit', 'export', '--format', 'json', '--from', '3', '--url', t.url, '--api-key', t.tenantA.adminKey);
      expect(mixed.err).toContain('need --format jsonl');
      const notCheckpoint = await cli('audit', 'export', '--from-checkpoint', bundlePath, '--url', t.url, '--api-key', t.tenantA.adminKey);
      expect(notCheckpoint.err).toContain('is not a checkpoint note');
      const out = join(dir, 'beyond.jsonl');
      const beyond = await cli('audit', 'export', '--from', '999999', '--url', t.url, '--api-key', t.tenantA.adminKey, '--out', out);
      expect(beyond.code).not.toBe(0);
      expect(beyond.err).toMatch(/^tollgate: LEDGER_RANGE_INVALID: \/api\/v1\/audit\/bundle: the server answered HTTP 400: /);
      // The server's own code, so a script can tell a wrong key from an outage (was UNAVAILABLE for every refusal).
      const wrongKey = await cli('audit', 'export', '--url', t.url, '--api-key', 'tg_live_nope_nope', '--out', out);
      expect(wrongKey.err).toMatch(/^tollgate: UNAUTHENTICATED: /);
      // The key may come from the environment instead of the command line (and the process list).
      process.env.TOLLGATE_API_KEY = t.tenantA.adminKey;
      let proofBeyond;
      try {
        proofBeyond = await cli('audit', 'proof', '--index', '999999', '--url', t.url);
        expect((await cli('audit', 'proof', '--index', '3', '--url', t.url)).code).toBe(0);
      } finally {
        delete process.env.TOLLGATE_API_KEY;
      }
      expect((await cli('audit', 'proof', '--index', '3', '--url', t.url)).err).toContain('pass --api-key or set TOLLGATE_API_KEY');
      expect(proofBeyond.err).toMatch(/^tollgate: LEDGER_RANGE_INVALID: /);
      // Nothing half-written is left behind.
      await expect(readFile(out)).rejects.toThrow();
      await expect(readFile(`${out}.partial`)).rejects.toThrow();
      // Regression: a missing directory crashed with an unhandled stream error instead of a message.
      const nowhere = await cli('audit', 'export', '--url', t.url, '--api-key', t.tenantA.adminKey, '--out', join(dir, 'no-such-dir', 'x.jsonl'));
      expect(nowhere.code).toBe(1);
      expect(nowhere.err).toMatch(/^tollgate: VALIDATION_FAILED: --out: cannot write .*no-such-dir.*ENOENT/);
    });

    it('refuses a file that is not a bundle', async () => {
      const path = join(dir, 'not-json.json');
      await writeFile(path, 'hello');
      const result = await cli('audit', 'verify', path);
      expect(result.code).toBe(1);
      expect(result.out).toMatch(/^FAILED: 0 records[\s\S]*\nBUNDLE_MALFORMED: not JSON/);
    });
  });
}

suite('SQLite', undefined);
const pgUrl = postgresTestUrl('tollgate audit CLI');
if (pgUrl) suite('PostgreSQL', pgUrl);
