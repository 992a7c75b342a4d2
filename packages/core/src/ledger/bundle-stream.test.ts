import { describe, expect, it } from 'vitest';
import { merkle } from '../index.js';
import {
  BUNDLE_STREAM_FORMAT,
  BundleStreamVerifier,
  MAX_STREAM_PROBLEMS,
  bundleCheckpointLine,
  bundleHeaderLine,
  bundleRecordLine,
  frontierHashes,
  verifyBundleLines,
} from './bundle-stream.js';
import { signCheckpoint } from './checkpoint.js';
import { generateNoteKey } from './note-keys.js';
import { formatVerifierKey } from './signed-note.js';
import type { NoteKey } from './signed-note.js';
import { recordLeafHash, toLedgerRecord } from './record.js';
import type { LedgerRecord } from './record.js';

const ORIGIN = 'tollgate.test/acme';
const logKey = generateNoteKey(ORIGIN);

function makeRecords(count: number, salt = ''): LedgerRecord[] {
  return Array.from({ length: count }, (_, i) =>
    toLedgerRecord('acme', i, new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), {
      type: i % 3 === 0 ? 'enforce.decision' : 'sandbox.host_call',
      agentId: `agent-${i % 2}`,
      isViolation: i % 5 === 0,
      data: { n: i, tool: 'send_email', salt },
    }),
  );
}

function checkpointAt(records: readonly LedgerRecord[], size: number, key: NoteKey = logKey, origin = ORIGIN): string {
  const root = merkle.rootHash(records.slice(0, size).map(recordLeafHash));
  return signCheckpoint({ origin, size, rootHash: root, extensions: [] }, key);
}

/** The lines the server writes for records [from, to) of `records`, with checkpoints at `sizes`. */
function makeLines(records: readonly LedgerRecord[], from: number, to: number, sizes: readonly number[]): string[] {
  const tree = new merkle.MemoryMerkleTree();
  for (const record of records.slice(0, from)) tree.append(recordLeafHash(record));
  const lines = [bundleHeaderLine({ format: BUNDLE_STREAM_FORMAT, origin: ORIGIN, publicKey: formatVerifierKey(logKey), from, to, frontier: frontierHashes(from, tree) })];
  const checkpointsAt = (size: number) => sizes.filter((s) => s === size).map((s) => bundleCheckpointLine(checkpointAt(records, s)));
  lines.push(...checkpointsAt(from));
  for (let i = from; i < to; i++) {
    lines.push(bundleRecordLine(records[i] as LedgerRecord));
    lines.push(...checkpointsAt(i + 1));
  }
  return lines;
}

function verify(lines: readonly string[], options = {}) {
  const verifier = new BundleStreamVerifier(options);
  for (const line of lines) verifier.line(line);
  return verifier.finish();
}

const codes = (lines: readonly string[], options = {}) => verify(lines, options).problems.map((p) => p.code);

/** Index of the line holding record `index`. */
const lineOf = (lines: readonly string[], index: number) => lines.findIndex((line) => line.startsWith('{"record":') && (JSON.parse(line) as { record: LedgerRecord }).record.index === index);

describe('streaming bundles (v2)', () => {
  const records = makeRecords(40);

  it('accepts a whole log and reports its size, root and checkpoints', () => {
    const result = verify(makeLines(records, 0, 40, [5, 12, 20, 40]));
    expect(result).toMatchObject({ ok: true, size: 40, from: 0, checkpointsVerified: 4, uncovered: 0, problems: [], problemsOmitted: 0 });
    expect(result.rootHash).toBe(merkle.toHex(merkle.rootHash(records.map(recordLeafHash))));
  });

  it('accepts a bundle that continues from a kept checkpoint, and checks the trusted checkpoint against its frontier', () => {
    const lines = makeLines(records, 20, 40, [20, 33, 40]);
    expect(verify(lines, { trustedCheckpoint: checkpointAt(records, 20) })).toMatchObject({ ok: true, size: 40, from: 20, checkpointsVerified: 3 });
    // A trusted checkpoint inside the bundle is checked when the records reach it.
    expect(verify(lines, { trustedCheckpoint: checkpointAt(records, 27) }).ok).toBe(true);
  });

  it('catches history rewritten before the bundle starts: the frontier no longer matches the trusted checkpoint', () => {
    // The database owner rewrote record 3 and re-signed everything with the log key: the new export is internally
    // consistent, but the checkpoint kept from the previous export says otherwise.
    const kept = checkpointAt(records, 20);
    const rewritten = records.map((record, i) => (i === 3 ? { ...record, data: { n: 3, tool: 'read_file', salt: '' } } : record));
    const lines = makeLines(rewritten, 20, 40, [20, 40]);
    expect(verify(lines).ok).toBe(true);
    expect(codes(lines, { trustedCheckpoint: kept })).toEqual(['ROLLBACK']);
  });

  it('catches a forged frontier at the first checkpoint after it', () => {
    const lines = makeLines(records, 20, 40, [40]);
    const header = JSON.parse(lines[0] as string) as { frontier: string[] };
    header.frontier[0] = '00'.repeat(32);
    lines[0] = JSON.stringify(header);
    expect(codes(lines)).toEqual(['CHECKPOINT_ROOT_MISMATCH']);
  });

  it('refuses a frontier of the wrong shape for its size', () => {
    const lines = makeLines(records, 20, 40, [40]);
    const header = JSON.parse(lines[0] as string) as { frontier: string[]; from: number };
    header.frontier.pop();
    expect(codes([JSON.stringify(header), ...lines.slice(1)])).toEqual(['BUNDLE_MALFORMED']);
    header.frontier.push('zz'.repeat(32));
    expect(codes([JSON.stringify(header), ...lines.slice(1)])).toEqual(['BUNDLE_MALFORMED']);
    expect(codes([JSON.stringify({ ...header, from: 21 }), ...lines.slice(1)])).toEqual(['BUNDLE_MALFORMED']);
    expect(codes([JSON.stringify({ ...header, from: -1 }), ...lines.slice(1)])).toEqual(['BUNDLE_MALFORMED']);
    expect(codes([JSON.stringify({ ...header, to: 19 }), ...lines.slice(1)])).toEqual(['BUNDLE_MALFORMED']);
  });

  it('catches an edited, a deleted, an inserted and a reordered record', () => {
    const lines = makeLines(records, 0, 40, [10, 20, 30, 40]);
    const edited = [...lines];
    const at = lineOf(edited, 14);
    edited[at] = bundleRecordLine({ ...(records[14] as LedgerRecord), isViolation: true });
    expect(codes(edited)).toContain('CHECKPOINT_ROOT_MISMATCH');

    const deleted = [...lines];
    deleted.splice(lineOf(deleted, 14), 1);
    expect(codes(deleted)).toEqual(expect.arrayContaining(['RECORD_OUT_OF_ORDER', 'CHECKPOINT_BEYOND_RECORDS']));

    const inserted = [...lines];
    inserted.splice(lineOf(inserted, 14), 0, bundleRecordLine({ ...(records[14] as LedgerRecord), data: { forged: true } }));
    expect(codes(inserted)).toEqual(expect.arrayContaining(['RECORD_OUT_OF_ORDER', 'CHECKPOINTS_OUT_OF_ORDER']));

    const swapped = [...lines];
    const [a, b] = [lineOf(swapped, 14), lineOf(swapped, 15)];
    [swapped[a], swapped[b]] = [swapped[b] as string, swapped[a] as string];
    expect(codes(swapped)).toEqual(expect.arrayContaining(['RECORD_OUT_OF_ORDER', 'CHECKPOINT_ROOT_MISMATCH']));
  });

  it('catches a truncated bundle: cut after a record, or cut together with its last checkpoint', () => {
    const lines = makeLines(records, 0, 40, [10, 20, 30, 40]);
    expect(codes(lines.slice(0, -1))).toEqual(['RECORDS_UNSIGNED']);
    expect(codes(lines.slice(0, -2))).toEqual(['RECORDS_UNSIGNED', 'BUNDLE_INCOMPLETE']);
    // Cut right after the checkpoint of size 30: internally consistent, but not the log the header announced.
    const cut = lines.slice(0, lines.indexOf(bundleCheckpointLine(checkpointAt(records, 30))) + 1);
    expect(codes(cut)).toEqual(['BUNDLE_INCOMPLETE']);
    // The header edited to match: a trusted checkpoint beyond the end still catches it.
    const header = JSON.parse(cut[0] as string) as { to: number };
    cut[0] = JSON.stringify({ ...header, to: 30 });
    expect(codes(cut)).toEqual([]);
    expect(codes(cut, { trustedCheckpoint: checkpointAt(records, 35) })).toEqual(['ROLLBACK']);
  });

  it('refuses records appended after the last checkpoint, and a bundle whose frontier nothing signs', () => {
    const lines = makeLines(records, 0, 30, [10, 30]);
    const header = JSON.parse(lines[0] as string) as { to: number };
    const appended = [JSON.stringify({ ...header, to: 31 }), ...lines.slice(1), bundleRecordLine(records[30] as LedgerRecord)];
    expect(codes(appended)).toEqual(['RECORDS_UNSIGNED']);
    const bare = makeLines(records, 20, 20, []);
    expect(codes(bare)).toEqual(['RECORDS_UNSIGNED']);
    expect(codes(makeLines(records, 20, 20, [20]))).toEqual([]);
  });

  it('refuses checkpoints that are forged, signed by another key or for another tenant', () => {
    const lines = makeLines(records, 0, 20, [10, 20]);
    const other = generateNoteKey(ORIGIN);
    const forged = lines.map((line) => (line === bundleCheckpointLine(checkpointAt(records, 10)) ? bundleCheckpointLine(checkpointAt(records, 10, other)) : line));
    expect(codes(forged)).toEqual(['CHECKPOINT_SIGNATURE_INVALID']);
    const otherTenantKey = generateNoteKey('tollgate.test/globex');
    const otherTenant = lines.map((line) => (line === bundleCheckpointLine(checkpointAt(records, 20)) ? bundleCheckpointLine(checkpointAt(records, 20, otherTenantKey, 'tollgate.test/globex')) : line));
    expect(codes(otherTenant)).toEqual(['CHECKPOINT_SIGNATURE_INVALID', 'RECORDS_UNSIGNED']);
    // The header relabelled as the other tenant's log, with the other tenant's key.
    const header = JSON.parse(lines[0] as string) as Record<string, unknown>;
    const relabelled = [JSON.stringify({ ...header, origin: 'tollgate.test/globex' }), ...lines.slice(1)];
    expect(codes(relabelled)).toContain('ORIGIN_MISMATCH');
    expect(codes(lines, { expectedPublicKey: formatVerifierKey(other) })).toContain('PUBLIC_KEY_MISMATCH');
  });

  it('checks the trusted checkpoint: invalid, before the bundle, or beyond the log', () => {
    const lines = makeLines(records, 20, 40, [20, 40]);
    expect(codes(lines, { trustedCheckpoint: 'not a note' })).toEqual(['TRUSTED_CHECKPOINT_INVALID']);
    expect(codes(lines, { trustedCheckpoint: checkpointAt(records, 10) })).toEqual(['TRUSTED_CHECKPOINT_BEFORE_BUNDLE']);
    const longer = makeRecords(50);
    expect(codes(lines, { trustedCheckpoint: checkpointAt(longer, 45) })).toEqual(['ROLLBACK']);
  });

  it('refuses spellings other JSON parsers read differently, per line', () => {
    const lines = makeLines(records, 0, 10, [10]);
    const at = lineOf(lines, 4);
    lines[at] = (lines[at] as string).replace('"type":', '"type":"x","type":');
    expect(codes(lines)).toEqual(expect.arrayContaining(['BUNDLE_AMBIGUOUS']));
    const big = makeLines(records, 0, 10, [10]);
    big[lineOf(big, 2)] = (big[lineOf(big, 2)] as string).replace('"n":2', '"n":123456789012345678901');
    expect(codes(big)).toEqual(expect.arrayContaining(['BUNDLE_AMBIGUOUS', 'CHECKPOINT_ROOT_MISMATCH']));
  });

  it('reports malformed input with its line number and never as verified', () => {
    expect(verify([]).problems).toEqual([{ code: 'BUNDLE_MALFORMED', message: 'empty: no header line' }]);
    expect(codes(['not json'])).toEqual(['BUNDLE_MALFORMED']);
    expect(codes([JSON.stringify({ format: 'tollgate-ledger-bundle/v1' })])).toEqual(['BUNDLE_MALFORMED']);
    const lines = makeLines(records, 0, 10, [10]);
    const withJunk = [...lines.slice(0, 3), '{"record":{"index":2},"extra":1}', '[1,2]', 'garbage', '{"checkpoint":42}', ...lines.slice(3)];
    const problems = verify(withJunk).problems;
    expect(problems.map((p) => p.code)).toEqual(['BUNDLE_MALFORMED', 'BUNDLE_MALFORMED', 'BUNDLE_MALFORMED', 'BUNDLE_MALFORMED']);
    expect(problems[0]?.message).toMatch(/^line 4 /);
    // Empty lines are ignored; a record that canonical JSON refuses is malformed.
    expect(codes(['', ...lines, ''])).toEqual([]);
    const unhashable = [...lines];
    unhashable[lineOf(unhashable, 5)] = (unhashable[lineOf(unhashable, 5)] as string).replace('"n":5', '"n":1e400');
    expect(codes(unhashable)).toEqual(expect.arrayContaining(['BUNDLE_MALFORMED', 'CHECKPOINT_ROOT_MISMATCH']));
  });

  // Regression: lines could only be given as text, so a caller reading a file had to decode it first, and a lenient
  // decoder turns bytes that are not UTF-8 into U+FFFD: the verifier checked another text than the file's.
  it('takes lines as bytes, decoded as strict UTF-8', async () => {
    const lines = makeLines(records, 0, 10, [10]);
    const bytes = lines.map((line) => Buffer.from(line, 'utf8'));
    expect(await verifyBundleLines(bytes)).toMatchObject({ ok: true, size: 10 });
    const at = lineOf(lines, 3);
    const line = bytes[at] as Buffer;
    const quote = line.indexOf('"send_email"') + 1;
    bytes[at] = Buffer.concat([line.subarray(0, quote), Buffer.from([0xff]), line.subarray(quote + 1)]);
    const result = await verifyBundleLines(bytes);
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toEqual({ code: 'BUNDLE_MALFORMED', message: `line ${at + 1} is not valid UTF-8` });
    // A header that is not UTF-8 stops the verification, as one that is not JSON does.
    expect((await verifyBundleLines([Buffer.from([0x7b, 0xc3, 0x7d])])).problems).toEqual([{ code: 'BUNDLE_MALFORMED', message: 'line 1 is not valid UTF-8' }]);
  });

  it('lists at most MAX_STREAM_PROBLEMS problems and counts the rest', () => {
    const lines = makeLines(records, 0, 10, [10]);
    const flood = [lines[0] as string, ...Array.from({ length: 250 }, () => 'garbage'), ...lines.slice(1)];
    const result = verify(flood);
    expect(result.ok).toBe(false);
    expect(result.problems).toHaveLength(MAX_STREAM_PROBLEMS);
    expect(result.problemsOmitted).toBe(150);
  });

  it('verifies from an async iterable, reports progress, and turns a read error into a failed verification', async () => {
    const many = makeRecords(25_000);
    const tree = new merkle.MemoryMerkleTree();
    for (const record of many) tree.append(recordLeafHash(record));
    const note = signCheckpoint({ origin: ORIGIN, size: many.length, rootHash: tree.root(), extensions: [] }, logKey);
    async function* lines(fail: boolean) {
      yield bundleHeaderLine({ format: BUNDLE_STREAM_FORMAT, origin: ORIGIN, publicKey: formatVerifierKey(logKey), from: 0, to: many.length, frontier: [] });
      for (const record of many) {
        if (fail && record.index === 12_345) throw new Error('line 12347 is longer than 64 MiB');
        yield bundleRecordLine(record);
      }
      yield bundleCheckpointLine(note);
    }
    const progress: number[] = [];
    const ok = await verifyBundleLines(lines(false), { onProgress: (size) => progress.push(size) });
    expect(ok).toMatchObject({ ok: true, size: 25_000, checkpointsVerified: 1 });
    expect(progress).toEqual(expect.arrayContaining([10_000, 20_000]));
    const failed = await verifyBundleLines(lines(true));
    expect(failed.ok).toBe(false);
    expect(failed.problems).toEqual([{ code: 'BUNDLE_MALFORMED', message: 'the bundle could not be read to its end: line 12347 is longer than 64 MiB' }]);
  });
});
