import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  BUNDLE_STREAM_FORMAT,
  bundleCheckpointLine,
  bundleHeaderLine,
  bundleRecordLine,
  formatVerifierKey,
  generateNoteKey,
  merkle,
  recordLeafHash,
  signCheckpoint,
  toLedgerRecord,
} from '@tollgate/core';
import { createProgress, openBundleInput, readAll, readLines } from './bundle-io.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-bundle-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function* chunksOf(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part) : part;
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

describe('readLines', () => {
  it('splits at line breaks across chunk boundaries, drops \\r, keeps a last line without a break', async () => {
    expect(await collect(readLines(chunksOf('{"a":', '1}\r\n{"b"', ':2}\n\n', 'last')))).toEqual(['{"a":1}', '{"b":2}', '', 'last']);
    // A multi-byte character split between chunks.
    const euro = Buffer.from('x€y\n');
    expect(await collect(readLines(chunksOf(euro.subarray(0, 2), euro.subarray(2))))).toEqual(['x€y']);
  });

  it('refuses a line longer than the bound, counted across chunks, without reading it whole', async () => {
    await expect(collect(readLines(chunksOf('ok\n', 'x'.repeat(6), 'x'.repeat(6), '\n'), 10))).rejects.toThrow('line 2 is longer than 10 bytes');
    await expect(collect(readLines(chunksOf('ok\n', `${'x'.repeat(11)}\n`), 10))).rejects.toThrow('line 2 is longer than 10 bytes');
    expect(await collect(readLines(chunksOf(`${'x'.repeat(10)}\n`), 10))).toEqual(['x'.repeat(10)]);
  });

  // Regression: the decoder dropped a byte order mark at the start of every line, so a line other parsers refuse
  // (Python's json: "Unexpected UTF-8 BOM") was verified as if it were not there.
  it('keeps a byte order mark at the start of a line', async () => {
    expect(await collect(readLines(chunksOf('\uFEFF{"a":1}\n\uFEFF{"b":2}')))).toEqual(['\uFEFF{"a":1}', '\uFEFF{"b":2}']);
  });

  it('refuses bytes that are not UTF-8, with the line number', async () => {
    await expect(collect(readLines(chunksOf('ok\n', new Uint8Array([0x7b, 0xff, 0x7d, 0x0a]))))).rejects.toThrow('line 2 is not valid UTF-8');
  });
});

describe('openBundleInput', () => {
  it('tells JSON Lines from one-document bundles by the first bytes, and keeps every byte', async () => {
    const v2 = join(dir, 'v2.jsonl');
    const text = `${JSON.stringify({ format: BUNDLE_STREAM_FORMAT, from: 0 })}\n${'{"record":{}}\n'.repeat(100)}`;
    writeFileSync(v2, text);
    const input = await openBundleInput(v2);
    expect(input.streaming).toBe(true);
    expect(Buffer.from(await readAll(input.chunks)).toString('utf8')).toBe(text);
    const v1 = join(dir, 'v1.json');
    writeFileSync(v1, '{"format":"tollgate-ledger-bundle/v1","records":[]}');
    expect((await openBundleInput(v1)).streaming).toBe(false);
    await expect(openBundleInput(join(dir, 'missing.jsonl'))).rejects.toMatchObject({ code: 'LEDGER_BUNDLE_INVALID' });
  });
});

describe('createProgress', () => {
  it('prints done, total and percent on stderr, at most once per interval', () => {
    const writes: string[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (writes.push(String(chunk)), true));
    try {
      const progress = createProgress('verified', 2_000_000, 0);
      progress.update(500_000);
      createProgress('exported', undefined, 0).update(12);
      const slow = createProgress('verified', 10, 60_000);
      slow.update(5);
    } finally {
      stderr.mockRestore();
    }
    expect(writes).toEqual(['verified 500,000 of 2,000,000 (25%) records\n', 'exported 12 records\n']);
  });
});

describe('tollgate audit verify - (stdin)', () => {
  it('verifies a JSON Lines bundle piped in, and fails a tampered one', async () => {
    const origin = 'tollgate.test/acme';
    const key = generateNoteKey(origin);
    const records = Array.from({ length: 30 }, (_, i) => toLedgerRecord('acme', i, '2026-01-01T00:00:00.000Z', { type: 'enforce.decision', data: { n: i } }));
    const note = signCheckpoint({ origin, size: 30, rootHash: merkle.rootHash(records.map(recordLeafHash)), extensions: [] }, key);
    const lines = [bundleHeaderLine({ format: BUNDLE_STREAM_FORMAT, origin, publicKey: formatVerifierKey(key), from: 0, to: 30, frontier: [] }), ...records.map(bundleRecordLine), bundleCheckpointLine(note)];
    const bin = join(dirname(fileURLToPath(import.meta.url)), '../../dist/bin.js');
    const run = (input: string) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [bin, 'audit', 'verify', '-'], { env: { ...process.env, DATABASE_URL: '' } });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk));
        child.on('close', (code) => resolve({ code, out }));
        child.stdin.end(input);
      });
    const ok = await run(`${lines.join('\n')}\n`);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^OK: 30 records, root [0-9a-f]{64}, 1 checkpoint checked/);
    const tampered = await run(lines.join('\n').replace('"n":7', '"n":8'));
    expect(tampered.code).toBe(1);
    expect(tampered.out).toContain('CHECKPOINT_ROOT_MISMATCH');
  });
});
