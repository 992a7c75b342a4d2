// Adversarial review of the ledger's pure half: proofs, canonical JSON, signed checkpoints and the offline bundle
// verifier, each attacked the way someone holding a copy of the log (or another tenant's log) would.
import { describe, expect, it } from 'vitest';
import { merkle } from '../index.js';
import { BUNDLE_FORMAT, verifyBundle, verifyBundleText } from './bundle.js';
import type { LedgerBundle } from './bundle.js';
import { canonicalJson } from './canonical-json.js';
import { findJsonAmbiguities } from './json-ambiguity.js';
import { openCheckpoint, signCheckpoint } from './checkpoint.js';
import { generateNoteKey } from './note-keys.js';
import { recordLeafHash, toLedgerRecord } from './record.js';
import type { LedgerRecord } from './record.js';
import { formatSignedNote, formatVerifierKey, noteKeyId, parseSignedNote } from './signed-note.js';
import type { NoteKey } from './signed-note.js';

// The server signs every tenant's checkpoints with ONE Ed25519 key, named after the tenant's origin.
const serverKey = generateNoteKey('tollgate');
const keyFor = (origin: string): NoteKey => ({ name: origin, publicKey: serverKey.publicKey, privateKey: serverKey.privateKey });
const ORIGIN_A = 'tollgate.test/tenant-a';
const ORIGIN_B = 'tollgate.test/tenant-b';

function records(tenantId: string, count: number, data: (i: number) => unknown = (i) => ({ n: i })): LedgerRecord[] {
  return Array.from({ length: count }, (_, i) =>
    toLedgerRecord(tenantId, i, new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), { type: 'enforce.decision', data: data(i) }),
  );
}

function checkpoint(origin: string, recs: readonly LedgerRecord[], size = recs.length): string {
  return signCheckpoint({ origin, size, rootHash: merkle.rootHash(recs.slice(0, size).map(recordLeafHash)), extensions: [] }, keyFor(origin));
}

function bundleOf(origin: string, recs: LedgerRecord[], sizes: number[] = [recs.length]): LedgerBundle & { records: LedgerRecord[]; checkpoints: string[] } {
  return { format: BUNDLE_FORMAT, origin, publicKey: formatVerifierKey(keyFor(origin)), records: recs, checkpoints: sizes.map((s) => checkpoint(origin, recs, s)) };
}

/** A note's signature lines renamed to another key name (same raw key, so the signatures stay valid). */
function relabel(note: string, name: string): string {
  const parsed = parseSignedNote(note);
  const keyId = noteKeyId(name, 0x01, serverKey.publicKey);
  return formatSignedNote({ text: parsed.text, signatures: parsed.signatures.map((sig) => ({ ...sig, name, keyId })) });
}

const codes = (bundle: LedgerBundle, options = {}) => verifyBundle(bundle, options).problems.map((p) => p.code);

describe('canonical JSON has one spelling per record', () => {
  // Regression: the fast path copied objects with `out[key] = value`, so an own "__proto__" key (what JSON.parse
  // makes of one) set the copy's prototype and vanished from the canonical bytes.
  it.each([
    ['an object', '{"__proto__":{"approvedBy":"ciso"},"b":2}'],
    ['a string', '{"__proto__":"forged","b":2}'],
    ['null', '{"__proto__":null,"b":2}'],
  ])('keeps an own __proto__ key holding %s', (_name, json) => {
    const withKey = JSON.parse(json) as Record<string, unknown>;
    expect(canonicalJson(withKey)).toBe(json);
    expect(canonicalJson(withKey)).not.toBe(canonicalJson({ b: 2 }));
  });

  it('hashes an own __proto__ key the same on the fast and the slow path (array-index keys take the slow one)', () => {
    expect(canonicalJson(JSON.parse('{"__proto__":5,"1":2}'))).toBe('{"1":2,"__proto__":5}');
    expect(canonicalJson(JSON.parse('{"__proto__":5,"a":2}'))).toBe('{"__proto__":5,"a":2}');
  });

  it('catches a __proto__ key slipped into an exported record, at the top or inside data', () => {
    const top = bundleOf(ORIGIN_A, records('tenant-a', 6));
    top.records[2] = JSON.parse(JSON.stringify(top.records[2]).replace('{', '{"__proto__":{"isViolation":false},')) as LedgerRecord;
    expect(Object.keys(top.records[2] as object)).toContain('__proto__');
    expect(codes(top)).toContain('CHECKPOINT_ROOT_MISMATCH');
    const inData = bundleOf(ORIGIN_A, records('tenant-a', 6));
    inData.records[4] = JSON.parse(JSON.stringify(inData.records[4]).replace('"data":{', '"data":{"__proto__":{"decision":"ALLOW"},')) as LedgerRecord;
    expect(codes(inData)).toContain('CHECKPOINT_ROOT_MISMATCH');
  });

  it.each([
    ['-0 and 0', { v: -0 }, { v: 0 }],
    ['key order', { a: 1, b: 2 }, { b: 2, a: 1 }],
  ])('gives %s one spelling, as RFC 8785 requires (held)', (_name, left, right) => {
    expect(canonicalJson(left)).toBe(canonicalJson(right));
  });

  it.each([
    ['NFC and NFD forms', { v: '\u00e9' }, { v: 'e\u0301' }],
    ['integers past 2^53 that are different doubles', { v: 2 ** 53 }, { v: 2 ** 53 + 2 }],
  ])('keeps %s apart (held: no normalisation)', (_name, left, right) => {
    expect(canonicalJson(left)).not.toBe(canonicalJson(right));
  });

  it('refuses lone surrogates in values and keys instead of escaping them (held)', () => {
    expect(() => canonicalJson({ v: '\ud800' })).toThrow(TypeError);
    expect(() => canonicalJson({ ['\udc00']: 1 })).toThrow(TypeError);
  });
});

describe('a checkpoint of one tenant never vouches for another', () => {
  // Regression: verifyBundle checked checkpoint origins against the bundle's own `origin` field, not against the
  // name of the key. Since the server signs every tenant's checkpoints with one raw key, tenant B's checkpoints,
  // their signature lines relabelled with tenant A's key name and id, verified under A's pinned key.
  it("refuses tenant B's log presented under tenant A's pinned key", () => {
    const vkeyA = formatVerifierKey(keyFor(ORIGIN_A));
    const logB = bundleOf(ORIGIN_B, records('tenant-b', 5, (i) => ({ forgedByB: i })));
    const disguised = { ...logB, publicKey: vkeyA, checkpoints: logB.checkpoints.map((note) => relabel(note, ORIGIN_A)) };
    const result = verifyBundle(disguised, { expectedPublicKey: vkeyA });
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.code)).toContain('ORIGIN_MISMATCH');
  });

  it('refuses a bundle whose origin is not the name of its own key', () => {
    const logB = bundleOf(ORIGIN_B, records('tenant-b', 3));
    const disguised = { ...logB, publicKey: formatVerifierKey(keyFor(ORIGIN_A)), checkpoints: logB.checkpoints.map((note) => relabel(note, ORIGIN_A)) };
    expect(verifyBundle(disguised).ok).toBe(false);
  });

  it("refuses A's trusted checkpoint as the anchor of B's bundle (held)", () => {
    const logB = bundleOf(ORIGIN_B, records('tenant-b', 3));
    const trustedA = checkpoint(ORIGIN_A, records('tenant-a', 2));
    expect(codes(logB, { trustedCheckpoint: trustedA })).toContain('TRUSTED_CHECKPOINT_INVALID');
  });

  it('openCheckpoint refuses a note of another origin under the same raw key (held)', () => {
    const noteB = checkpoint(ORIGIN_B, records('tenant-b', 3));
    expect(() => openCheckpoint(relabel(noteB, ORIGIN_A), keyFor(ORIGIN_A))).toThrow(/not tollgate.test\/tenant-a/);
  });

  it.each([
    ['an added extension line', (text: string) => `${text}extra line\n`],
    ['a removed root line', (text: string) => text.split('\n').filter((_, i) => i !== 2).join('\n')],
    ['a changed size', (text: string) => text.replace(/\n3\n/, '\n2\n')],
    ['a newline injected into the origin', (text: string) => text.replace(ORIGIN_A, `${ORIGIN_A}\n3`)],
  ])('refuses a signed note with %s (held)', (_name, edit) => {
    const note = parseSignedNote(checkpoint(ORIGIN_A, records('tenant-a', 3)));
    const forged = formatSignedNote({ text: edit(note.text), signatures: note.signatures });
    expect(() => openCheckpoint(forged, keyFor(ORIGIN_A))).toThrow();
  });
});

describe('records no signed checkpoint covers', () => {
  // Regression: records after the last checkpoint were reported as a note and the bundle verified (exit 0), so
  // fabricated records appended to an export, or a whole log with its checkpoints stripped, passed even with the
  // key pinned. The server signs a checkpoint covering every record before it exports, so a genuine bundle has none.
  it('fails a bundle with fabricated records appended after the last checkpoint', () => {
    const bundle = bundleOf(ORIGIN_A, records('tenant-a', 6), [3, 6]);
    const forged = toLedgerRecord('tenant-a', 6, '2026-01-01T01:00:00.000Z', { type: 'policy.activated', data: { by: 'ciso' } });
    bundle.records.push(forged);
    const result = verifyBundle(bundle, { expectedPublicKey: bundle.publicKey, trustedCheckpoint: bundle.checkpoints[0] });
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.code)).toEqual(['RECORDS_UNSIGNED']);
    expect(result.uncovered).toBe(1);
  });

  it('fails a rewritten log whose checkpoints were all stripped, with the real key pinned', () => {
    const bundle = bundleOf(ORIGIN_A, records('tenant-a', 4, () => ({ rewritten: true })), []);
    expect(codes(bundle, { expectedPublicKey: bundle.publicKey })).toEqual(['RECORDS_UNSIGNED']);
  });

  it('accepts an empty log with no checkpoint and a fully covered one (held)', () => {
    expect(verifyBundle(bundleOf(ORIGIN_A, [], [])).ok).toBe(true);
    expect(verifyBundle(bundleOf(ORIGIN_A, records('tenant-a', 5), [2, 5])).ok).toBe(true);
  });
});

describe('forged proofs (held)', () => {
  const leaves = Array.from({ length: 7 }, (_, i) => merkle.hashLeaf(new Uint8Array([i])));
  const root7 = merkle.rootHash(leaves);
  const proofOf = (index: number, size = 7) => merkle.inclusionProof(index, size, leaves);
  const zero = new Uint8Array(32);

  it('accepts genuine proofs, including the last leaf of an odd tree', () => {
    for (let i = 0; i < 7; i++) expect(merkle.verifyInclusion(leaves[i]!, i, 7, proofOf(i), root7)).toBe(true);
    expect(proofOf(6)).toHaveLength(2);
  });

  it.each([
    ['another leaf at the same index', () => merkle.verifyInclusion(leaves[5]!, 6, 7, proofOf(6), root7)],
    ["another leaf's proof", () => merkle.verifyInclusion(leaves[2]!, 2, 7, proofOf(3), root7)],
    ['the index of the sibling', () => merkle.verifyInclusion(leaves[2]!, 3, 7, proofOf(2), root7)],
    // RFC 9162 binds the size to the root only through the signed checkpoint (callers take both from it; a size
    // whose path has the same shape, e.g. 6 for leaf 2 of 7, cannot be told apart by the proof alone).
    ['a tree size that changes the path', () => merkle.verifyInclusion(leaves[2]!, 2, 4, proofOf(2), root7)],
    ['a larger tree size', () => merkle.verifyInclusion(leaves[2]!, 2, 9, proofOf(2), root7)],
    ['index = size', () => merkle.verifyInclusion(leaves[6]!, 7, 7, proofOf(6), root7)],
    ['a negative index', () => merkle.verifyInclusion(leaves[0]!, -1, 7, proofOf(0), root7)],
    ['size 0', () => merkle.verifyInclusion(leaves[0]!, 0, 0, [], merkle.emptyRoot())],
    ['an empty proof', () => merkle.verifyInclusion(leaves[2]!, 2, 7, [], root7)],
    ['an extra hash', () => merkle.verifyInclusion(leaves[2]!, 2, 7, [...proofOf(2), zero], root7)],
    ['a duplicated hash', () => merkle.verifyInclusion(leaves[2]!, 2, 7, [proofOf(2)[0]!, ...proofOf(2)], root7)],
    ['a short hash', () => merkle.verifyInclusion(leaves[2]!, 2, 7, proofOf(2).map((h) => h.subarray(1)), root7)],
    ['the root as the leaf of a size-1 tree', () => merkle.verifyInclusion(root7, 0, 1, [], root7) && false],
    ['a non-integer index', () => merkle.verifyInclusion(leaves[2]!, 2.5, 7, proofOf(2), root7)],
    ['a size past 2^53', () => merkle.verifyInclusion(leaves[2]!, 2, 2 ** 53 + 2, proofOf(2), root7)],
  ])('inclusion: refuses %s', (_name, attempt) => {
    expect(attempt()).toBe(false);
  });

  const rootAt = (size: number) => merkle.rootHash(leaves.slice(0, size));
  it.each([
    ['size 0 with any root', () => merkle.verifyConsistency(0, 7, rootAt(3), root7, [])],
    ['equal sizes with different roots', () => merkle.verifyConsistency(7, 7, rootAt(6), root7, [])],
    ['equal sizes with a proof', () => merkle.verifyConsistency(7, 7, root7, root7, [zero])],
    ['an empty proof', () => merkle.verifyConsistency(3, 7, rootAt(3), root7, [])],
    ['the proof of other sizes', () => merkle.verifyConsistency(3, 7, rootAt(3), root7, merkle.consistencyProof(4, 7, leaves))],
    ['a wrong first size', () => merkle.verifyConsistency(2, 7, rootAt(3), root7, merkle.consistencyProof(3, 7, leaves))],
    ['a shrinking log', () => merkle.verifyConsistency(7, 3, root7, rootAt(3), merkle.consistencyProof(3, 7, leaves))],
    ['an extra hash', () => merkle.verifyConsistency(3, 7, rootAt(3), root7, [...merkle.consistencyProof(3, 7, leaves), zero])],
    ['a rewritten prefix', () => merkle.verifyConsistency(3, 7, merkle.hashLeaf(new Uint8Array([9])), root7, merkle.consistencyProof(3, 7, leaves))],
  ])('consistency: refuses %s', (_name, attempt) => {
    expect(attempt()).toBe(false);
  });

  it('accepts every genuine consistency proof of the 7-leaf tree', () => {
    for (let a = 0; a <= 7; a++) {
      for (let b = a; b <= 7; b++) expect(merkle.verifyConsistency(a, b, rootAt(a), rootAt(b), merkle.consistencyProof(a, b, leaves))).toBe(true);
    }
  });
});

describe('a bundle file whose parsers disagree', () => {
  // Regression: the verifier hashed what JSON.parse made of the file, so an edit JSON.parse settles silently passed:
  // a repeated key (JavaScript keeps the last, other parsers the first or refuse) or an integer past 2^53 changed to
  // another literal that rounds to the same double (JavaScript reads both alike, Python and jq keep the edit).
  const exported = () => bundleOf(ORIGIN_A, records('tenant-a', 4, (i) => ({ decision: 'BLOCK', amount: i === 2 ? 2 ** 53 : i })));

  it('accepts the file as exported (held)', () => {
    expect(verifyBundleText(`${JSON.stringify(exported())}\n`).ok).toBe(true);
    expect(verifyBundleText(JSON.stringify(exported(), null, 2)).ok).toBe(true);
  });

  it('fails a record with a repeated key that a first-wins parser reads as ALLOW', () => {
    const text = JSON.stringify(exported()).replace('"data":{"decision":"BLOCK","amount":1}', '"data":{"decision":"ALLOW","decision":"BLOCK","amount":1}');
    expect(text).toContain('"decision":"ALLOW"');
    expect(verifyBundle(JSON.parse(text) as LedgerBundle).ok).toBe(true);
    const result = verifyBundleText(text);
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.code)).toEqual(['BUNDLE_AMBIGUOUS']);
  });

  it('fails an integer edited to another literal of the same double', () => {
    const text = JSON.stringify(exported()).replace('"amount":9007199254740992', '"amount":9007199254740993');
    expect(text).toContain('9007199254740993');
    expect(verifyBundle(JSON.parse(text) as LedgerBundle).ok).toBe(true);
    expect(verifyBundleText(text).problems.map((p) => p.code)).toEqual(['BUNDLE_AMBIGUOUS']);
  });

  it('reports a record canonical JSON refuses instead of throwing', () => {
    const text = JSON.stringify(exported()).replace('"amount":3', '"amount":1e400');
    const result = verifyBundleText(text);
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.code)).toContain('BUNDLE_MALFORMED');
  });

  // Regression: only integer literals without `.`, `e` or `E` were looked at, so a number respelled with a fraction or
  // an exponent passed while Python (parse_float=Decimal) and Go (json.Number) read the literal as written.
  it.each([
    ['an index with a fraction', '"index":2,', '"index":2.0,'],
    ['an index with an exponent', '"index":2,', '"index":2e0,'],
    ['an index with a fraction JavaScript rounds away', '"index":2,', '"index":2.0000000000000001,'],
    ['an index scaled by a negative exponent', '"index":2,', '"index":20e-1,'],
    ['2^53 respelled as 2^53 + 1 with a fraction', '"amount":9007199254740992', '"amount":9007199254740993.0'],
    ['2^53 respelled as 2^53 + 1 with an exponent', '"amount":9007199254740992', '"amount":9.007199254740993e15'],
    ['zero respelled as minus zero', '"amount":0', '"amount":-0'],
  ])('fails %s, which hashes the same', (_name, from, to) => {
    const text = JSON.stringify(exported()).replace(from, to);
    expect(text).toContain(to);
    expect(verifyBundle(JSON.parse(text) as LedgerBundle).ok).toBe(true);
    const result = verifyBundleText(text);
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.code)).toEqual(['BUNDLE_AMBIGUOUS']);
  });

  it('accepts every number the server writes: fractions, exponents, negatives, -0 (written 0) (held)', () => {
    const values = [0.1, -2.5, 1e21, 1.5e-7, 5e-324, -0, 2 ** 53, -(2 ** 53), 0.30000000000000004, 1.7976931348623157e308];
    const bundle = bundleOf(ORIGIN_A, records('tenant-a', values.length, (i) => ({ amount: values[i], list: values })));
    expect(verifyBundleText(JSON.stringify(bundle)).problems).toEqual([]);
    expect(verifyBundleText(JSON.stringify(bundle, null, 2)).ok).toBe(true);
  });

  it.each([
    ['keys repeated in different objects', '{"a":{"k":1},"b":{"k":2},"k":3}', 0],
    ['a key spelled with an escape', '{"k":1,"\\u006b":2}', 1],
    ['a key inside a string value', '{"a":"{\\"a\\":1}","b":"x,\\"a\\""}', 0],
    ['exact integers past 2^53', '[9007199254740992,-9007199254740994]', 0],
    ['an inexact negative integer', '[-9007199254740993]', 1],
    ['canonical fractions and exponents', '[0.1,-2.5,1e+21,1.5e-7,5e-324,0,-1]', 0],
    ['an exponent where the server writes digits', '[123456789012345678901234567890e0,1E+21,1e21,1.5E-7]', 4],
    ['digits where the server writes an exponent', '[1000000000000000000000]', 1],
    ['trailing zeros and minus zero', '[1.0,1.50,-0,-0.0,0e0]', 5],
    ['a number beyond the doubles', '[1e400]', 1],
  ])('scanner: %s', (_name, text, count) => {
    expect(findJsonAmbiguities(text)).toHaveLength(count);
  });
});

describe('a bundle file that is not UTF-8', () => {
  // Regression: the CLI decoded a one-document bundle with Buffer#toString, which turns bytes that are not UTF-8 into
  // U+FFFD: the verifier checked a text other than the file's, and the file passed.
  const text = JSON.stringify(bundleOf(ORIGIN_A, records('tenant-a', 3, (i) => ({ note: `caf\u00e9 ${i}` }))));

  it('verifies the bytes of a genuine file (held)', () => {
    expect(verifyBundleText(Buffer.from(text, 'utf8')).ok).toBe(true);
  });

  it.each([
    ['a lone continuation byte', [0x80]],
    ['a truncated sequence', [0xc3]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['a surrogate encoded in UTF-8', [0xed, 0xa0, 0x80]],
  ])('fails %s inside a record string as BUNDLE_MALFORMED', (_name, bytes) => {
    const at = Buffer.from(text.slice(0, text.indexOf('caf\u00e9 1') + 3), 'utf8').length;
    const file = Buffer.from(text, 'utf8');
    const edited = Buffer.concat([file.subarray(0, at), Buffer.from(bytes), file.subarray(at + 2)]);
    expect(edited.toString('utf8')).toContain('\ufffd');
    const result = verifyBundleText(edited);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([{ code: 'BUNDLE_MALFORMED', message: 'not UTF-8 text: a byte sequence is not valid UTF-8' }]);
  });

  it('keeps a byte order mark in the text, where JSON.parse refuses it', () => {
    const result = verifyBundleText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]));
    expect(result.problems.map((p) => p.code)).toEqual(['BUNDLE_MALFORMED']);
  });
});
