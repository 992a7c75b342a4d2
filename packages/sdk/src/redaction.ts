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
  if (json.length > MAX_EVENT_PAYLOAD_CHARS) return { truncated: true, preview: cutPreview(json, MAX_EVENT_PAYLOAD_CHARS) };
  return JSON.parse(json) as unknown;
}

/** Opens a PEM block (a private key, a certificate); the server's secret rule needs its `-----END` line to match it. */
const PEM_BEGIN = '-----BEGIN';
const PEM_END = '-----END';

/**
 * The first `max` UTF-16 units of `json` or fewer, cut where no secret straddles the cut: the server's secret rules
 * match whole tokens, so a token cut in half (a key's last characters, a PEM block without its END line) would be
 * stored in clear. The cut goes back to before the last boundary (whitespace, a quote, an escaped line break or tab)
 * unless the next character is one, and then before a `-----BEGIN` line left without its `-----END`. It never splits
 * a surrogate pair: the server refuses a lone surrogate (400), and the whole event would be lost.
 * @example
 * cutPreview('"one two three"', 10); // '"one two'
 */
export function cutPreview(json: string, max: number): string {
  if (json.length <= max) return json;
  let end = max;
  if (!isBoundaryAt(json, end)) end = lastBoundaryBefore(json, end);
  const last = json.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  let kept = json.slice(0, end);
  for (let begin = kept.lastIndexOf(PEM_BEGIN); begin !== -1 && !kept.includes(PEM_END, begin); begin = kept.lastIndexOf(PEM_BEGIN)) {
    kept = kept.slice(0, lastBoundaryBefore(kept, begin));
  }
  return kept;
}

/** True when `text[index]` starts a boundary: whitespace, a quote, or an escaped line break or tab (`\n`, `\r`, `\t`). */
function isBoundaryAt(text: string, index: number): boolean {
  const char = text[index];
  if (char === undefined || char === '"' || /\s/.test(char)) return true;
  return char === '\\' && /[nrt]/.test(text[index + 1] ?? '');
}

/** Where the last boundary before `index` starts (0 when there is none): cutting there keeps only whole tokens. */
function lastBoundaryBefore(text: string, index: number): number {
  for (let position = index - 1; position > 0; position -= 1) {
    if (isBoundaryAt(text, position)) return position;
  }
  return 0;
}

/** Replaces one value before it is written (see {@link safeStringify}); may throw to refuse the whole value. */
export type JsonReplacer = (value: unknown) => unknown;

/**
 * JSON.stringify that survives cycles, bigints and functions (tool inputs are arbitrary objects).
 * Only a real cycle (an object inside itself) becomes `"[Circular]"`: an object that appears twice
 * side by side is written out both times, so the policy sees what the tool gets. Bigints become
 * strings, a `Map` with string or number keys an object (other keys: an array of `[key, value]`),
 * a `Set` an array; functions and symbols are left out, as JSON.stringify does. `replace`, when
 * given, sees every value (nested ones included) before its `toJSON` and before it is written.
 * @example
 * safeStringify({ id: 1n, tags: new Set(['a']) }); // '{"id":"1","tags":["a"]}'
 */
export function safeStringify(value: unknown, replace?: JsonReplacer): string {
  return JSON.stringify(toJsonValue(value, '', [], replace)) ?? 'null';
}

function toJsonValue(input: unknown, key: string, ancestors: object[], replace: JsonReplacer | undefined): unknown {
  let value = replace ? replace(input) : input;
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    const json = (value as { toJSON(key: string): unknown }).toJSON(key);
    value = replace && json !== value ? replace(json) : json;
  }
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
  if (value instanceof Number || value instanceof String || value instanceof Boolean) return value.valueOf();
  if (ancestors.includes(value)) return '[Circular]';
  ancestors.push(value);
  try {
    return toJsonContainer(value, ancestors, replace);
  } finally {
    ancestors.pop();
  }
}

function toJsonContainer(value: object, ancestors: object[], replace: JsonReplacer | undefined): unknown {
  const item = (entry: unknown, key: string): unknown => toJsonValue(entry, key, ancestors, replace);
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
