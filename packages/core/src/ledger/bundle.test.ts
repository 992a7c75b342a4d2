import { describe, expect, it } from 'vitest';
import { merkle } from '../index.js';
import { BUNDLE_FORMAT, verifyBundle } from './bundle.js';
import type { LedgerBundle } from './bundle.js';
import { signCheckpoint } from './checkpoint.js';
import { generateNoteKey } from './note-keys.js';
import { formatVerifierKey } from './signed-note.js';
import type { NoteKey } from './signed-note.js';
import { recordLeafHash, toLedgerRecord } from './record.js';
import type { LedgerRecord } from './record.js';

const ORIGIN = 'tollgate.test/acme';
const logKey = generateNoteKey(ORIGIN);

function makeRecords(count: number): LedgerRecord[] {
  return Array.from({ length: count }, (_, i) =>
    toLedgerRecord('acme', i, new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), {
      type: i % 3 === 0 ? 'enforce.decision' : 'sandbox.host_call',
      agentId: `agent-${i % 2}`,
      isViolation: i % 5 === 0,
      data: { n: i, tool: 'send_email' },
    }),
  );
}

function checkpointAt(records: readonly LedgerRecord[], size: number, key: NoteKey = logKey): string {
  const root = merkle.rootHash(records.slice(0, size).map(recordLeafHash));
  return signCheckpoint({ origin: ORIGIN, size, rootHash: root, extensions: [] }, key);
}

/** 20 records with checkpoints at 5, 12 and 20, as the server exports them. */
function makeBundle(): LedgerBundle & { records: LedgerRecord[]; checkpoints: string[] } {
  const records = makeRecords(20);
  return {
    format: BUNDLE_FORMAT,
    origin: ORIGIN,
    publicKey: formatVerifierKey(logKey),
    records,
    checkpoints: [5, 12, 20].map((size) => checkpointAt(records, size)),
  };
}

const codes = (bundle: LedgerBundle, options = {}) => verifyBundle(bundle, options).problems.map((p) => p.code);

describe('verifyBundle', () => {
  it('accepts an untouched bundle and reports its size and root', () => {
    const bundle = makeBundle();
    const result = verifyBundle(bundle, { trustedCheckpoint: checkpointAt(bundle.records, 12) });
    expect(result).toMatchObject({ ok: true, size: 20, checkpointsVerified: 3, uncovered: 0, problems: [] });
    expect(result.rootHash).toBe(merkle.toHex(merkle.rootHash(bundle.records.map(recordLeafHash))));
  });

  it('catches an edited record', () => {
    const bundle = makeBundle();
    bundle.records[7] = { ...(bundle.records[7] as LedgerRecord), data: { n: 7, tool: 'read_file' } };
    const found = codes(bundle);
    expect(found.filter((code) => code === 'CHECKPOINT_ROOT_MISMATCH')).toHaveLength(2);
    expect(new Set(found)).toEqual(new Set(['CHECKPOINT_ROOT_MISMATCH', 'CHECKPOINTS_INCONSISTENT']));
  });

  it('catches a record whose violation flag was cleared', () => {
    const bundle = makeBundle();
    bundle.records[15] = { ...(bundle.records[15] as LedgerRecord), isViolation: false };
    expect(codes(bundle)).toContain('CHECKPOINT_ROOT_MISMATCH');
  });

  it('catches a deleted record, even when the indexes are renumbered', () => {
    const bundle = makeBundle();
    bundle.records.splice(3, 1);
    expect(codes(bundle)).toContain('CHECKPOINT_ROOT_MISMATCH');
    bundle.records.forEach((record, i) => (bundle.records[i] = { ...record, index: i }));
    expect(codes(bundle)).toEqual(expect.arrayContaining(['CHECKPOINT_ROOT_MISMATCH', 'CHECKPOINT_BEYOND_RECORDS']));
  });

  it('catches a swapped pair', () => {
    const bundle = makeBundle();
    const [a, b] = [bundle.records[8] as LedgerRecord, bundle.records[9] as LedgerRecord];
    bundle.records[8] = b;
    bundle.records[9] = a;
    expect(codes(bundle)).toEqual(expect.arrayContaining(['RECORD_OUT_OF_ORDER', 'CHECKPOINT_ROOT_MISMATCH']));
    bundle.records[8] = { ...b, index: 8 };
    bundle.records[9] = { ...a, index: 9 };
    expect(codes(bundle)).toContain('CHECKPOINT_ROOT_MISMATCH');
  });

  it('catches an inserted record', () => {
    const bundle = makeBundle();
    const forged = toLedgerRecord('acme', 10, '2026-01-01T00:00:09.500Z', { type: 'approval.granted', data: {} });
    bundle.records.splice(10, 0, forged);
    bundle.records.forEach((record, i) => (bundle.records[i] = { ...record, index: i }));
    expect(codes(bundle).filter((code) => code === 'CHECKPOINT_ROOT_MISMATCH')).toHaveLength(2);
  });

  it('catches a truncated tail, and with a trusted checkpoint also when the covering checkpoints are dropped', () => {
    const bundle = makeBundle();
    const trusted = checkpointAt(bundle.records, 20);
    bundle.records.length = 16;
    expect(codes(bundle)).toEqual(['CHECKPOINT_BEYOND_RECORDS', 'CHECKPOINTS_INCONSISTENT']);
    bundle.checkpoints.pop();
    expect(codes(bundle)).toEqual(['RECORDS_UNSIGNED']);
    bundle.records.length = 12;
    expect(codes(bundle)).toEqual([]);
    expect(codes(bundle, { trustedCheckpoint: trusted })).toEqual(['ROLLBACK']);
  });

  it('catches a rewritten history that is consistent on its own but not with the trusted checkpoint', () => {
    const original = makeBundle();
    const trusted = checkpointAt(original.records, 12);
    const rewritten = makeRecords(20).map((r) => (r.index === 2 ? { ...r, data: { n: 2, tool: 'x' } } : r));
    const forged = { ...original, records: rewritten, checkpoints: [12, 20].map((s) => checkpointAt(rewritten, s)) };
    expect(codes(forged)).toEqual([]);
    expect(codes(forged, { trustedCheckpoint: trusted })).toEqual(['ROLLBACK']);
  });

  it('catches a forged checkpoint (root changed, signature kept)', () => {
    const bundle = makeBundle();
    const cp = bundle.checkpoints[1] as string;
    const [origin, size, , ...rest] = cp.split('\n');
    const otherRoot = merkle.toBase64(merkle.hashLeaf(new Uint8Array([9])));
    bundle.checkpoints[1] = [origin, size, otherRoot, ...rest].join('\n');
    expect(codes(bundle)).toContain('CHECKPOINT_SIGNATURE_INVALID');
  });

  it('catches a checkpoint signed by another key with the same name', () => {
    const bundle = makeBundle();
    bundle.checkpoints[2] = checkpointAt(bundle.records, 20, generateNoteKey(ORIGIN));
    expect(codes(bundle)).toEqual(['CHECKPOINT_SIGNATURE_INVALID', 'RECORDS_UNSIGNED']);
  });

  it('catches a whole bundle re-signed by another key when the real key is pinned', () => {
    const bundle = makeBundle();
    const impostor = generateNoteKey(ORIGIN);
    const resigned = {
      ...bundle,
      publicKey: formatVerifierKey(impostor),
      checkpoints: [5, 12, 20].map((s) => checkpointAt(bundle.records, s, impostor)),
    };
    expect(codes(resigned)).toEqual([]);
    expect(codes(resigned, { expectedPublicKey: formatVerifierKey(logKey) })).toEqual(
      expect.arrayContaining(['PUBLIC_KEY_MISMATCH', 'CHECKPOINT_SIGNATURE_INVALID']),
    );
    expect(codes(resigned, { trustedCheckpoint: checkpointAt(bundle.records, 5) })).toEqual(['TRUSTED_CHECKPOINT_INVALID']);
  });

  it('catches checkpoints out of order, and reports records no checkpoint covers', () => {
    const bundle = makeBundle();
    bundle.checkpoints.reverse();
    expect(codes(bundle)).toEqual(['CHECKPOINTS_OUT_OF_ORDER', 'CHECKPOINTS_OUT_OF_ORDER']);
    const partial = makeBundle();
    partial.checkpoints.pop();
    // Records no signed checkpoint covers are unsigned (the server's export always covers every record).
    expect(verifyBundle(partial)).toMatchObject({ ok: false, uncovered: 8, problems: [{ code: 'RECORDS_UNSIGNED' }] });
  });

  it('refuses something that is not a bundle', () => {
    expect(codes({ format: 'nope' } as unknown as LedgerBundle)).toEqual(['BUNDLE_MALFORMED']);
    expect(codes({ ...makeBundle(), publicKey: 'garbage' })).toEqual(['BUNDLE_MALFORMED']);
  });
});

describe('verifyBundle and unhashed content', () => {
  it('catches a field added to a record', () => {
    const bundle = makeBundle();
    bundle.records[3] = { ...(bundle.records[3] as LedgerRecord), approvedBy: 'ciso' } as LedgerRecord;
    expect(codes(bundle)).toContain('CHECKPOINT_ROOT_MISMATCH');
  });
});
