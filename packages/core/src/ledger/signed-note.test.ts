import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { merkle } from '../index.js';
import {
  cosignCheckpoint,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
  verifyCosignature,
} from './checkpoint.js';
import {
  formatSignedNote,
  formatVerifierKey,
  noteKeyFromPrivate,
  noteSignedBy,
  parseSignedNote,
  parseVerifierKey,
  signNote,
} from './signed-note.js';
import { generateNoteKey } from './note-keys.js';

const go = JSON.parse(
  readFileSync(new URL('../../test/fixtures/ledger/go-signed-note.json', import.meta.url), 'utf8'),
) as { verifierKey: string; signerKey: string; text: string; signedNote: string };

function goSigningKey() {
  const encoded = go.signerKey.split('+').slice(4).join('+');
  const seed = merkle.fromBase64(encoded).slice(1);
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return noteKeyFromPrivate('PeterNeumann', pkcs8);
}

describe('C2SP signed notes', () => {
  it('reproduces and verifies the Go reference note byte for byte', () => {
    const key = goSigningKey();
    expect(formatVerifierKey(key)).toBe(go.verifierKey);
    expect(signNote(go.text, [key])).toBe(go.signedNote);
    const note = parseSignedNote(go.signedNote);
    expect(note.text).toBe(go.text);
    expect(noteSignedBy(note, parseVerifierKey(go.verifierKey))).toBe(true);
    expect(formatSignedNote(note)).toBe(go.signedNote);
  });

  it('rejects an edited text, another key, and a key with a wrong id', () => {
    const verifier = parseVerifierKey(go.verifierKey);
    expect(noteSignedBy(parseSignedNote(go.signedNote.replace('cryptography', 'cryptographY')), verifier)).toBe(false);
    expect(noteSignedBy(parseSignedNote(go.signedNote), generateNoteKey('PeterNeumann'))).toBe(false);
    expect(() => parseVerifierKey(go.verifierKey.replace('c74f20a3', 'c74f20a4'))).toThrow(/key id/);
  });

  it.each([
    ['no blank line', 'hello\n— a AAAAAAAA\n'],
    ['no final newline', 'hello\n\n— a AAAAAAAAAA=='],
    ['a control character', 'hel\u0007lo\n\n— a AAAAAAAAAA==\n'],
    ['no em dash', 'hello\n\n- a AAAAAAAAAA==\n'],
    ['a bad base64', 'hello\n\n— a !!!!\n'],
    ['a name with a plus', 'hello\n\n— a+b AAAAAAAAAA==\n'],
  ])('refuses a note with %s', (_name, message) => {
    expect(() => parseSignedNote(message)).toThrow(expect.objectContaining({ code: 'LEDGER_NOTE_INVALID' }));
  });
});

describe('checkpoints and cosignatures', () => {
  const log = generateNoteKey('tollgate.test/acme');
  const root = merkle.hashLeaf(new Uint8Array([1]));
  const checkpoint = { origin: log.name, size: 42, rootHash: root, extensions: [] };

  it('round-trips through sign and open', () => {
    const signed = signCheckpoint(checkpoint, log);
    expect(signed.startsWith(`${log.name}\n42\n${merkle.toBase64(root)}\n\n— ${log.name} `)).toBe(true);
    const opened = openCheckpoint(signed, log);
    expect(opened.size).toBe(42);
    expect(merkle.toHex(opened.rootHash)).toBe(merkle.toHex(root));
  });

  it('refuses a checkpoint from another key, another origin, or with an edited size', () => {
    const signed = signCheckpoint(checkpoint, log);
    const impostor = generateNoteKey(log.name);
    expect(() => openCheckpoint(signNote(formatCheckpoint(checkpoint), [impostor]), log)).toThrow(/not signed/);
    expect(() => openCheckpoint(signed, log, 'tollgate.test/other')).toThrow(/not tollgate.test\/other/);
    expect(() => openCheckpoint(signed.replace('\n42\n', '\n43\n'), log)).toThrow(/not signed/);
  });

  it.each([
    ['a leading zero', 'o\n042\n' + 'A'.repeat(43) + '=\n'],
    ['a short root', 'o\n1\nAAAA\n'],
    ['a missing root', 'o\n1\n'],
    ['a negative size', 'o\n-1\n' + 'A'.repeat(43) + '=\n'],
  ])('parseCheckpoint refuses %s', (_name, text) => {
    expect(() => parseCheckpoint(text)).toThrow(expect.objectContaining({ code: 'LEDGER_NOTE_INVALID' }));
  });

  it('verifies a witness cosignature and rejects a tampered one', () => {
    const witness = generateNoteKey('witness.test/w1');
    const text = formatCheckpoint(checkpoint);
    const cosig = cosignCheckpoint(text, witness.name, witness.privateKey, witness.publicKey, 1_700_000_000);
    expect(verifyCosignature(text, cosig, witness)).toBe(1_700_000_000);
    expect(verifyCosignature(formatCheckpoint({ ...checkpoint, size: 43 }), cosig, witness)).toBeNull();
    const otherTime = { ...cosig, signature: cosig.signature.map((b, i) => (i === 7 ? b ^ 1 : b)) };
    expect(verifyCosignature(text, otherTime, witness)).toBeNull();
    expect(verifyCosignature(text, cosig, generateNoteKey('witness.test/w1'))).toBeNull();
    // A cosignature line sits beside the log's signature in the same note.
    const note = parseSignedNote(signNote(text, [log]));
    const both = formatSignedNote({ text, signatures: [...note.signatures, cosig] });
    expect(openCheckpoint(both, log).size).toBe(42);
    expect(parseVerifierKey(formatVerifierKey(witness, 0x04), 0x04).name).toBe(witness.name);
  });

  describe('cosignature times', () => {
    // Regression: any signed time up to 2^53 - 1 seconds was accepted; the server stores it in milliseconds, and every
    // later read of the checkpoint threw a RangeError formatting it as a date (HTTP 500 for the whole tenant).
    const witness = generateNoteKey('witness.test/w1');
    const text = formatCheckpoint(checkpoint);
    const now = Date.UTC(2026, 10, 22, 12, 0, 0);
    const nowSeconds = now / 1000;
    const year2020 = Date.UTC(2020, 0, 1) / 1000;
    const day = 86_400;
    const cosignedAt = (timestamp: number) => cosignCheckpoint(text, witness.name, witness.privateKey, witness.publicKey, timestamp);

    it.each([
      ['at 0 (1970)', 0],
      ['a second before 2020', year2020 - 1],
      ['a day and a second after the clock', nowSeconds + day + 1],
      ['two years ahead', nowSeconds + 2 * 365 * day],
      ['at 2^53 - 1 seconds', Number.MAX_SAFE_INTEGER],
    ])('refuses a validly signed cosignature dated %s', (_name, timestamp) => {
      expect(verifyCosignature(text, cosignedAt(timestamp), witness, { now })).toBeNull();
    });

    it.each([
      ['on 2020-01-01', year2020],
      ['now', nowSeconds],
      ['a day ahead of the clock (skew)', nowSeconds + day],
    ])('accepts one dated %s', (_name, timestamp) => {
      expect(verifyCosignature(text, cosignedAt(timestamp), witness, { now })).toBe(timestamp);
    });

    it('reads the real clock when none is given, and refuses when the clock is not a number', () => {
      const current = Math.floor(Date.now() / 1000);
      expect(verifyCosignature(text, cosignedAt(current), witness)).toBe(current);
      expect(verifyCosignature(text, cosignedAt(Number.MAX_SAFE_INTEGER), witness)).toBeNull();
      expect(verifyCosignature(text, cosignedAt(current), witness, { now: Number.NaN })).toBeNull();
    });
  });
});
