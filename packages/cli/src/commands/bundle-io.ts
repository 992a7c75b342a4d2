// Reading and writing ledger bundle files for `tollgate audit export|verify`: JSON Lines split with a bound on line
// length, the format told from a file's first bytes, progress on stderr during long work.
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import { BUNDLE_STREAM_FORMAT, TollgateError } from '@tollgate/core';

/** Longest line a streaming bundle may have (a record line; the ledger's records are far smaller). */
export const MAX_BUNDLE_LINE_BYTES = 64 * 1024 * 1024;

/** How often progress is printed during a long export or verification. */
export const PROGRESS_INTERVAL_MS = 2_000;

/**
 * Lines of a byte stream (split at `\n`, a trailing `\r` dropped, strict UTF-8). Throws when a line is longer than
 * `maxLineBytes` or not UTF-8, with its line number, so a hostile file cannot make the reader hold unbounded memory.
 *
 * @example for await (const line of readLines(createReadStream('audit.jsonl'))) …
 */
export async function* readLines(chunks: AsyncIterable<Uint8Array>, maxLineBytes = MAX_BUNDLE_LINE_BYTES): AsyncGenerator<string> {
  // ignoreBOM: a byte order mark at the start of a line stays (JSON.parse, like Python's json, refuses it) instead
  // of being dropped silently, so the verifier checks the text the file holds.
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let parts: Buffer[] = [];
  let partBytes = 0;
  let lineNumber = 0;
  const decode = (bytes: Buffer): string => {
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
    try {
      return decoder.decode(bytes.subarray(0, end));
    } catch {
      throw new Error(`line ${lineNumber} is not valid UTF-8`);
    }
  };
  const tooLong = () => new Error(`line ${lineNumber + 1} is longer than ${maxLineBytes} bytes`);
  for await (const raw of chunks) {
    const chunk = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    let start = 0;
    for (let newline = chunk.indexOf(10, start); newline !== -1; newline = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, newline);
      if (partBytes + piece.length > maxLineBytes) throw tooLong();
      lineNumber += 1;
      const bytes = parts.length === 0 ? piece : Buffer.concat([...parts, piece]);
      parts = [];
      partBytes = 0;
      yield decode(bytes);
      start = newline + 1;
    }
    if (start < chunk.length) {
      partBytes += chunk.length - start;
      if (partBytes > maxLineBytes) throw tooLong();
      parts.push(Buffer.from(chunk.subarray(start)));
    }
  }
  if (partBytes > 0) {
    lineNumber += 1;
    yield decode(Buffer.concat(parts));
  }
}

/** An input (a file or `-` for stdin) with its first bytes already read, to tell its format. */
export interface BundleInput {
  /** True when the first line is a streaming (v2) bundle header. */
  readonly streaming: boolean;
  /** Every byte of the input, the first ones included. */
  readonly chunks: AsyncIterable<Uint8Array>;
}

const V2_START = new RegExp(`^\\s*\\{\\s*"format"\\s*:\\s*"${BUNDLE_STREAM_FORMAT.replace('/', '\\/')}"`);

/**
 * Opens a bundle file (or stdin for `-`) and tells a streaming (v2, JSON Lines) bundle from a one-document (v1) one
 * by its first bytes, as `tollgate audit export` writes them.
 *
 * @example const input = await openBundleInput('audit.jsonl');
 */
export async function openBundleInput(path: string): Promise<BundleInput> {
  const source: AsyncIterable<Uint8Array> = path === '-' ? process.stdin : await openFile(path);
  const iterator = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  try {
    while (headBytes < 256) {
      const next = await iterator.next();
      if (next.done) break;
      head.push(next.value);
      headBytes += next.value.length;
    }
  } catch (cause) {
    throw new TollgateError('LEDGER_BUNDLE_INVALID', `cannot read bundle ${path}: ${(cause as Error).message}`, { cause });
  }
  const streaming = V2_START.test(Buffer.concat(head).subarray(0, 256).toString('utf8'));
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield* head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  return { streaming, chunks: chunks() };
}

async function openFile(path: string): Promise<AsyncIterable<Uint8Array>> {
  // Opened first so a missing or unreadable file is a clear error, not a stream error later.
  try {
    const handle = await open(path, 'r');
    await handle.close();
  } catch (cause) {
    throw new TollgateError('LEDGER_BUNDLE_INVALID', `cannot read bundle ${path}: ${(cause as Error).message}`, { cause });
  }
  return createReadStream(path);
}

/**
 * Reads a whole input as bytes (one-document bundles, which are bounded in size by the server). Bytes, not text: the
 * verifier decodes them strictly, where `toString('utf8')` would turn bytes that are not UTF-8 into U+FFFD.
 */
export async function readAll(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/**
 * Writes text to a stream, waiting when its buffer is full (so a slow disk or pipe never makes the export hold the
 * log in memory).
 */
export async function writeText(out: Writable | NodeJS.WriteStream, text: string): Promise<void> {
  if (out.errored) throw out.errored;
  if (!out.write(text)) await once(out, 'drain');
  if (out.errored) throw out.errored;
}

/**
 * Prints `label: N of M records (P%)` on stderr at most every {@link PROGRESS_INTERVAL_MS}; short work prints nothing.
 *
 * @example
 * const progress = createProgress('verified', total);
 * progress.update(done);
 */
export function createProgress(label: string, total?: number, intervalMs = PROGRESS_INTERVAL_MS): { update(done: number, totalNow?: number): void } {
  let last = performance.now();
  return {
    update(done, totalNow = total) {
      const now = performance.now();
      if (now - last < intervalMs) return;
      last = now;
      const of = totalNow !== undefined && totalNow > 0 ? ` of ${totalNow.toLocaleString('en-US')} (${Math.floor((done / totalNow) * 100)}%)` : '';
      process.stderr.write(`${label} ${done.toLocaleString('en-US')}${of} records\n`);
    },
  };
}
