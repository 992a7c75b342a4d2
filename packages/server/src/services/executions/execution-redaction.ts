import { detectSecrets, redactSecrets } from '@tollgate/core';
import type { ExecutionOutcome } from '../../store/repositories/sandbox-executions.js';
import { jsonHash } from './statement-signer.js';

/** A span of text to mask and its mask (`[REDACTED:<rule id>]`, the content-safety secret mask). */
interface Span {
  start: number;
  end: number;
  mask: string;
}

/**
 * Masks secrets in a JSON value as a whole: the value's JSON text is scanned, so keys, nested values and a secret
 * spread over neighbouring strings of one structure (a PEM block split into array items) are found, and the masked
 * text is parsed back. Fails closed: if masking cannot give valid, secret-free JSON, the whole value becomes one
 * mask string.
 *
 * @example
 * redactJsonValue({ deploy: { token: 'ghp_…' } }); // { deploy: { token: '[REDACTED:github-pat]' } }
 */
export function redactJsonValue<T>(value: T): T | string {
  const text = JSON.stringify(value ?? null);
  const findings = detectSecrets(text);
  if (findings.length === 0) return value;
  try {
    const masked = JSON.parse(applySpans(text, findings.map((f) => ({ start: f.start, end: f.end, mask: f.redacted })))) as T;
    if (detectSecrets(JSON.stringify(masked)).length === 0) return masked;
  } catch {
    // A span crossed JSON syntax in a way that broke it: fall through to the whole-value mask.
  }
  return [...new Set(findings.map((f) => f.redacted))].join(' ');
}

/** Longest run of lines (in characters) scanned as one window when looking for a secret split over 2–3 lines. */
const MAX_WINDOW_CHARS = 16_384;

/**
 * Masks secrets in a sequence of log messages, each one alone and across neighbouring lines: the messages are also
 * scanned all joined with line breaks (a PEM block logged line by line), all joined with nothing, and in windows
 * of two and three neighbouring lines joined with nothing (a secret printed in pieces, `log('AKIA')`,
 * `log('Z7Q2…')`, whose ends the full join would glue to the text of the lines around it). A piece is masked in
 * every line that holds one.
 *
 * @example
 * redactLines(['key: AKIA', 'Z7Q2MNXL4PWR6TYB']); // ['key: [REDACTED:aws-access-token]', '[REDACTED:aws-access-token]']
 */
export function redactLines(messages: readonly string[]): string[] {
  const spans: Span[][] = messages.map((message) => detectSecrets(message).map((f) => ({ start: f.start, end: f.end, mask: f.redacted })));
  if (messages.length > 1) {
    addJoinedSpans(messages, 0, messages.length, '\n', spans);
    addJoinedSpans(messages, 0, messages.length, '', spans);
    for (let first = 0; first < messages.length - 1; first++) {
      for (const size of [2, 3]) {
        const last = first + size;
        if (last > messages.length || windowChars(messages, first, last) > MAX_WINDOW_CHARS) break;
        addJoinedSpans(messages, first, last, '', spans);
      }
    }
  }
  return messages.map((message, i) => applySpans(message, spans[i] ?? []));
}

function windowChars(messages: readonly string[], first: number, last: number): number {
  let chars = 0;
  for (let i = first; i < last; i++) chars += messages[i]?.length ?? 0;
  return chars;
}

/** Scans `messages[first..last)` joined by `separator` and maps each finding back onto the lines it touches. */
function addJoinedSpans(messages: readonly string[], first: number, last: number, separator: string, spans: Span[][]): void {
  const window = messages.slice(first, last);
  const findings = detectSecrets(window.join(separator));
  if (findings.length === 0) return;
  let offset = 0;
  window.forEach((message, k) => {
    const start = offset;
    const end = offset + message.length;
    for (const finding of findings) {
      const from = Math.max(finding.start, start);
      const to = Math.min(finding.end, end);
      if (from < to) spans[first + k]?.push({ start: from - start, end: to - start, mask: finding.redacted });
    }
    offset = end + separator.length;
  });
}

/** Replaces spans (overlapping ones merged, the first one's mask kept) by their masks. */
function applySpans(text: string, spans: readonly Span[]): string {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let at = 0;
  for (const span of sorted) {
    if (span.end <= at) continue;
    if (span.start < at) {
      at = span.end; // overlaps the previous span: the mask already stands for it
      continue;
    }
    out += text.slice(at, span.start) + span.mask;
    at = span.end;
  }
  return out + text.slice(at);
}

/**
 * `outputHash` of an outcome that has an output but is not masked yet: the hash is only ever taken over the masked
 * output ({@link redactOutcome}), so hashing the raw output first would be wasted work on the request thread.
 */
export const OUTPUT_HASH_PENDING = 'pending';

/**
 * The stored form of a run's outcome: output, logs, host-call audit, error and termination reason with secrets
 * masked, and the output hash taken over the masked output, so anyone holding the stored record can recompute it.
 *
 * @example
 * const stored = redactOutcome(toOutcome(result, null, now));
 */
export function redactOutcome(outcome: ExecutionOutcome): ExecutionOutcome {
  const output = redactJsonValue(outcome.output);
  const logs = redactLogEntries(outcome.logs);
  return {
    ...outcome,
    output,
    logs,
    hostCallAudit: outcome.hostCallAudit.map((entry) => redactJsonValue(entry)),
    error: outcome.error === null ? null : { code: outcome.error.code, message: redactSecrets(outcome.error.message) },
    terminationReason: outcome.terminationReason === null ? null : redactSecrets(outcome.terminationReason),
    outputHash: outcome.outputHash === null ? null : jsonHash(output),
  };
}

function redactLogEntries(logs: readonly unknown[]): unknown[] {
  const messages = logs.map((entry) => messageOf(entry));
  const masked = redactLines(messages);
  return logs.map((entry, i) => {
    if (typeof entry !== 'object' || entry === null || typeof (entry as { message?: unknown }).message !== 'string') return redactJsonValue(entry);
    return { ...(entry as Record<string, unknown>), message: masked[i] ?? '' };
  });
}

function messageOf(entry: unknown): string {
  const message = (entry as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : '';
}

/** A run's input as stored: masked, with the hash of the masked form. */
export interface MaskedInput {
  value: unknown;
  hash: string;
}

/** A run's outcome as stored, with the hash of its masked logs (the `logs_hash` of the ledger record). */
export interface MaskedOutcome {
  outcome: ExecutionOutcome;
  logsHash: string;
}

/**
 * The stored form of a run's input and its hash, in one step, so the masking worker does the hashing too.
 *
 * @example
 * const { value, hash } = maskInput({ task: 'x' });
 */
export function maskInput(input: unknown): MaskedInput {
  const value = redactJsonValue(input ?? null);
  return { value, hash: jsonHash(value) };
}

/**
 * {@link redactOutcome} plus the hash of the masked logs, in one step, so the masking worker does the hashing too.
 *
 * @example
 * const { outcome, logsHash } = maskOutcome(toOutcome(result, null, now));
 */
export function maskOutcome(outcome: ExecutionOutcome): MaskedOutcome {
  const masked = redactOutcome(outcome);
  return { outcome: masked, logsHash: jsonHash(masked.logs) };
}
