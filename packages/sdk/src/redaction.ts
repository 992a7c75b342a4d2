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

/**
 * JSON.stringify that survives cycles, bigints and functions (tool inputs are arbitrary objects).
 * Only a real cycle (an object inside itself) becomes `"[Circular]"`: an object that appears twice
 * side by side is written out both times, so the policy sees what the tool gets. Bigints become
 * strings, a `Map` with string or number keys an object (other keys: an array of `[key, value]`),
 * a `Set` an array; functions and symbols are left out, as JSON.stringify does.
 * @example
 * safeStringify({ id: 1n, tags: new Set(['a']) }); // '{"id":"1","tags":["a"]}'
 */
export function safeStringify(value: unknown): string {
  return JSON.stringify(toJsonValue(value, '', [])) ?? 'null';
}

function toJsonValue(input: unknown, key: string, ancestors: object[]): unknown {
  let value = input;
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
  if (value instanceof Number || value instanceof String || value instanceof Boolean) return value.valueOf();
  if (ancestors.includes(value)) return '[Circular]';
  ancestors.push(value);
  try {
    return toJsonContainer(value, ancestors);
  } finally {
    ancestors.pop();
  }
}

function toJsonContainer(value: object, ancestors: object[]): unknown {
  const item = (entry: unknown, key: string): unknown => toJsonValue(entry, key, ancestors);
  if (Array.isArray(value)) return value.map((entry, index) => item(entry, String(index)) ?? null);
  if (value instanceof Set) return [...value].map((entry, index) => item(entry, String(index)) ?? null);
  if (value instanceof Map) {
    const entries = [...value.entries()];
    if (!entries.every(([mapKey]) => typeof mapKey === 'string' || typeof mapKey === 'number')) {
      return entries.map(([mapKey, entry], index) => [item(mapKey, String(index)) ?? null, item(entry, String(index)) ?? null]);
    }
    return toJsonObject(entries.map(([mapKey, entry]) => [String(mapKey), entry]), item);
  }
  return toJsonObject(Object.keys(value).map((name) => [name, (value as Record<string, unknown>)[name]]), item);
}

function toJsonObject(entries: [string, unknown][], item: (entry: unknown, key: string) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, entry] of entries) {
    const json = item(entry, name);
    // defineProperty: an own "__proto__" key stays a key (plain assignment would replace the prototype).
    if (json !== undefined) Object.defineProperty(out, name, { value: json, enumerable: true, configurable: true, writable: true });
  }
  return out;
}
