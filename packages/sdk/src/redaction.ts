import { createHash } from 'node:crypto';
import type { Redaction } from './enums.js';

/** Largest serialized payload kept in an event under `full`; longer ones are truncated. */
export const MAX_EVENT_PAYLOAD_CHARS = 32_768;

/**
 * Turns a tool argument or result into what an event carries under `redaction`:
 * `full` → a JSON-safe copy (truncated past {@link MAX_EVENT_PAYLOAD_CHARS}), `hashed` → `{ sha256 }`, `none` → undefined.
 * @example
 * redactPayload({ path: '/etc/passwd' }, 'hashed'); // { sha256: '…' }
 */
export function redactPayload(value: unknown, redaction: Redaction): unknown {
  if (redaction === 'none' || value === undefined) return undefined;
  const json = safeStringify(value);
  if (redaction === 'hashed') return { sha256: createHash('sha256').update(json).digest('hex') };
  if (json.length > MAX_EVENT_PAYLOAD_CHARS) return { truncated: true, preview: json.slice(0, MAX_EVENT_PAYLOAD_CHARS) };
  return JSON.parse(json) as unknown;
}

/** JSON.stringify that survives cycles, bigints and functions (tool inputs are arbitrary objects). */
export function safeStringify(value: unknown): string {
  const seen = new WeakSet<object>();
  const json = JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'bigint') return item.toString();
    if (typeof item === 'function' || typeof item === 'symbol') return undefined;
    if (item !== null && typeof item === 'object') {
      if (seen.has(item)) return '[Circular]';
      seen.add(item);
    }
    return item;
  });
  return json ?? 'null';
}
