// `tollgate audit verify` on edited bundle files: what the file says must be what every JSON parser reads.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_FORMAT, formatVerifierKey, generateNoteKey, merkle, recordLeafHash, signCheckpoint, toLedgerRecord } from '@tollgate/core';
import { formatVerification, verifyBundleFile, verifyBundleInput } from './audit.js';

const ORIGIN = 'tollgate.test/acme';
const key = generateNoteKey(ORIGIN);
const dir = mkdtempSync(join(tmpdir(), 'tollgate-ledger-adversarial-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bundleText(note = 'plain'): string {
  const records = Array.from({ length: 3 }, (_, i) => toLedgerRecord('acme', i, '2026-01-01T00:00:00.000Z', { type: 'enforce.decision', data: { decision: 'BLOCK', n: i, note } }));
  const root = merkle.rootHash(records.map(recordLeafHash));
  const checkpoints = [signCheckpoint({ origin: ORIGIN, size: 3, rootHash: root, extensions: [] }, key)];
  return `${JSON.stringify({ format: BUNDLE_FORMAT, origin: ORIGIN, publicKey: formatVerifierKey(key), records, checkpoints })}\n`;
}

function writeBundle(content: string | Uint8Array): string {
  const path = join(dir, `bundle-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, content);
  return path;
}

function verifyText(text: string) {
  return verifyBundleFile(writeBundle(text), { publicKey: formatVerifierKey(key) });
}

describe('tollgate audit verify on an edited bundle file', () => {
  it('accepts the file as exported (held)', () => {
    expect(verifyText(bundleText()).ok).toBe(true);
  });

  // Regression: the command verified what JSON.parse made of the file; a repeated key (JavaScript keeps the last,
  // other parsers the first) let a file read as ALLOW by another tool pass as the signed BLOCK.
  it('fails a record with a repeated key', () => {
    const text = bundleText().replace('"decision":"BLOCK","n":1', '"decision":"ALLOW","decision":"BLOCK","n":1');
    expect(text).toContain('ALLOW');
    const result = verifyText(text);
    expect(result.ok).toBe(false);
    expect(formatVerification(result).join('\n')).toMatch(/^FAILED[\s\S]*BUNDLE_AMBIGUOUS: object key "decision" repeated/);
  });

  // Regression: a problem's message quoting the file (here its origin) reached the terminal as it was, so a bundle
  // from a hostile server could erase the FAILED line and print a fake OK.
  it('shows the control characters of a problem message quoting the bundle', () => {
    const bundle = JSON.parse(bundleText()) as { origin: string };
    bundle.origin = `${ORIGIN}\u001b[1A\u001b[2K\rOK: 3 records verified`;
    const report = formatVerification(verifyText(JSON.stringify(bundle)));
    expect(report).toContain(`ORIGIN_MISMATCH: the bundle says origin ${ORIGIN}\\u001b[1A\\u001b[2K\\u000dOK: 3 records verified, its key is for ${ORIGIN}`);
    expect(report.join('\n')).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  // Regression: records past the last checkpoint printed a note and exited 0.
  it('fails records appended after the last checkpoint', () => {
    const bundle = JSON.parse(bundleText()) as { records: unknown[] };
    bundle.records.push(toLedgerRecord('acme', 3, '2026-01-01T00:00:01.000Z', { type: 'policy.activated', data: { by: 'ciso' } }));
    const result = verifyText(JSON.stringify(bundle));
    expect(result.ok).toBe(false);
    expect(formatVerification(result)).toContain('RECORDS_UNSIGNED: records 3..3 are not covered by any signed checkpoint in the bundle');
  });

  // Regression: only integer literals without a fraction or exponent were checked, so a number respelled as 1.0 or
  // 1e0 passed, though Python (Decimal) and Go (json.Number) read the literal as written.
  it.each([
    ['a fraction', '"n":1,', '"n":1.0,'],
    ['an exponent', '"n":1,', '"n":1e0,'],
    ['a fraction JavaScript rounds away', '"n":1,', '"n":1.0000000000000001,'],
  ])('fails a number respelled with %s', (_name, from, to) => {
    const text = bundleText().replace(from, to);
    expect(text).toContain(to);
    const result = verifyText(text);
    expect(result.ok).toBe(false);
    expect(formatVerification(result).join('\n')).toMatch(/^FAILED[\s\S]*BUNDLE_AMBIGUOUS: number .* at offset \d+ is not in the canonical form the server writes \(JavaScript reads 1\)/);
  });

  // Regression: a one-document bundle was decoded with Buffer#toString, which reads bytes that are not UTF-8 as U+FFFD:
  // a record holding U+FFFD (EF BF BD) edited to another byte (FF) verified, though other tools read another text.
  it.each([
    ['verifyBundleFile', (path: string) => Promise.resolve(verifyBundleFile(path, {}))],
    ['audit verify (verifyBundleInput)', (path: string) => verifyBundleInput(path, {})],
  ])('%s fails bytes that are not UTF-8 as BUNDLE_MALFORMED', async (_name, verify) => {
    const genuine = Buffer.from(bundleText('caf\uFFFD'), 'utf8');
    expect((await verify(writeBundle(genuine))).ok).toBe(true);
    const at = genuine.indexOf(Buffer.from('caf\uFFFD', 'utf8')) + 3;
    const edited = Buffer.concat([genuine.subarray(0, at), Buffer.from([0xff]), genuine.subarray(at + 3)]);
    expect(edited.toString('utf8')).toBe(genuine.toString('utf8'));
    const result = await verify(writeBundle(edited));
    expect(result.ok).toBe(false);
    expect(formatVerification(result)).toEqual([expect.stringMatching(/^FAILED: 0 records/), 'BUNDLE_MALFORMED: not UTF-8 text: a byte sequence is not valid UTF-8']);
  });
});
