import { SECRET_RULES } from './secret-rules.js';
import type { SecretRule } from './secret-rules.js';
import type { SafetyFinding } from './types.js';

/**
 * Shannon entropy of a string in bits per character (gitleaks' `entropy` check).
 *
 * @example
 * shannonEntropy('aaaa'); // 0
 * shannonEntropy('abcd'); // 2
 */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * Mask for a secret: its rule id only, so that logs and ledgers never carry any part of it.
 *
 * @example
 * maskSecret('github-pat'); // '[REDACTED:github-pat]'
 */
export function maskSecret(ruleId: string): string {
  return `[REDACTED:${ruleId}]`;
}

function accepted(rule: SecretRule, secret: string): boolean {
  if (rule.entropy !== undefined && shannonEntropy(secret) < rule.entropy) return false;
  if (rule.allow?.some((re) => re.test(secret))) return false;
  if (rule.stopwords) {
    const lower = secret.toLowerCase();
    if (rule.stopwords.some((w) => lower.includes(w))) return false;
  }
  return true;
}

/**
 * Finds secrets with the ported gitleaks rules. Each rule runs only when one of its keywords
 * occurs in the text (gitleaks' prefilter), and its match must pass the rule's entropy, allowlist and
 * stopword checks. Text holding backslash escapes (JSON text, a log line, a string that is itself JSON) or URL
 * percent-encoding (a webhook URL inside a redirect parameter) is also scanned decoded, up to
 * {@link MAX_UNESCAPE_LEVELS} levels deep: in `"…\nAKIA…"` the `n` of the escape would otherwise hide the word boundary
 * a rule needs, and `\u0041KIA…` or `%2F` would hide the secret itself.
 * Overlapping findings are merged into one finding covering them all, named after the first specific rule
 * (gitleaks reports the specific id too), so no part of any match is left out of the span.
 *
 * @example
 * detectSecrets('token = ' + 'ghp_' + 'x'.repeat(36)); // [] — entropy too low
 */
export function detectSecrets(text: string, rules: readonly SecretRule[] = SECRET_RULES): SafetyFinding[] {
  if (rules === SECRET_RULES && text.length < SHORTEST_SECRET_CHARS) return [];
  const found = scanText(text, rules);
  let view: UnescapedView = { text, offsets: undefined };
  for (let level = 0; level < MAX_UNESCAPE_LEVELS && hasEscapes(view.text); level++) {
    const next = unescapeView(view.text);
    if (next === undefined) break;
    const previous = view.offsets;
    const offsets = previous === undefined ? next.offsets : next.offsets?.map((at) => previous[at] ?? text.length);
    view = { text: next.text, offsets };
    for (const f of scanText(view.text, rules)) {
      found.push({ ...f, start: offsets?.[f.start] ?? f.start, end: offsets?.[f.end] ?? f.end });
    }
  }
  return found.length === 0 ? found : mergeOverlaps(found);
}

/**
 * No match of a built-in rule is shorter (generic-api-key's 10-character value; the prefixed rules need 18 and more),
 * so shorter text (ids, names, most object keys) is not scanned at all.
 */
const SHORTEST_SECRET_CHARS = 10;

/**
 * How many levels of escapes {@link detectSecrets} decodes: a literal `\n` in a JSON string inside a JSON log line is
 * three. Each level costs one more scan, paid only by text that still holds escapes after the previous level.
 */
const MAX_UNESCAPE_LEVELS = 3;

function scanText(text: string, rules: readonly SecretRule[]): SafetyFinding[] {
  const lower = text.toLowerCase();
  const found: SafetyFinding[] = [];
  for (const rule of rules) {
    if (!containsAny(lower, rule.keywords)) continue;
    // A copy of the rule's regex, so the shared RegExp's lastIndex is never touched.
    const regex = new RegExp(rule.regex);
    for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
      const span = m.indices?.[rule.secretGroup];
      const secret = m[rule.secretGroup];
      if (m[0].length === 0) regex.lastIndex += 1;
      if (!span || secret === undefined) continue;
      if (!accepted(rule, secret)) {
        // A refused value may hold an assignment of its own (`token=GITHUB_TOKEN=<secret>`: the value
        // `GITHUB_TOKEN=<secret>` fails the stopwords): look again from inside it instead of after it.
        // Always ahead of where this match began, so the loop ends.
        regex.lastIndex = span[0] + 1;
        continue;
      }
      // Never end a span on a backslash: in JSON text (log lines) it would orphan the next escape.
      let end = span[1];
      while (end > span[0] && text.charCodeAt(end - 1) === 92) end--;
      found.push({ type: 'secret', rule: rule.id, start: span[0], end, redacted: maskSecret(rule.id) });
    }
  }
  return found;
}

function hasEscapes(text: string): boolean {
  return text.includes('\\') || text.includes('%');
}

/** Decoded text and, for each of its characters (and its end), the index in the text it was decoded from. */
interface UnescapedView {
  text: string;
  offsets: Uint32Array | undefined;
}

const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', "'": "'", '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '0': '\0' };

/**
 * Decodes JSON / JavaScript string escapes (`\n`, `\t`, `\"`, `\\`, `\/`, `\uXXXX`, `\xXX`…) and URL percent-encoding
 * (`%2F`), and keeps, for each decoded character, where it came from. Any other backslash or `%` is kept as it is.
 * Undefined when nothing was decoded.
 */
function unescapeView(text: string): UnescapedView | undefined {
  const parts: string[] = [];
  const offsets = new Uint32Array(text.length + 1); // a decoded text is never longer than its source
  let length = 0;
  let run = 0; // start of the text copied as it is since the last escape
  let backslash = text.indexOf('\\');
  let percent = text.indexOf('%');
  for (let i = 0; i < text.length; ) {
    if (backslash !== -1 && backslash < i) backslash = text.indexOf('\\', i);
    if (percent !== -1 && percent < i) percent = text.indexOf('%', i);
    const candidate = Math.min(backslash === -1 ? text.length : backslash, percent === -1 ? text.length : percent);
    for (; i < candidate; i++) offsets[length++] = i;
    if (i >= text.length) break;
    const decoded = decodeEscapeAt(text, i);
    if (decoded === undefined) {
      offsets[length++] = i;
      i += 1;
      continue;
    }
    parts.push(text.slice(run, i), decoded.char);
    offsets[length++] = i;
    i += decoded.width;
    run = i;
  }
  if (parts.length === 0) return undefined;
  parts.push(text.slice(run));
  offsets[length++] = text.length;
  return { text: parts.join(''), offsets: offsets.subarray(0, length) };
}

/** The escape (`%2F`, `\n`, `\u0041`, `\x41`…) starting at `i`, decoded, and how many characters it spans. */
function decodeEscapeAt(text: string, i: number): { char: string; width: number } | undefined {
  const code = text.charCodeAt(i);
  if (code === 37) {
    const hex = text.slice(i + 1, i + 3);
    return HEX_BYTE.test(hex) ? { char: String.fromCharCode(parseInt(hex, 16)), width: 3 } : undefined;
  }
  if (code !== 92 || i + 1 >= text.length) return undefined;
  const next = text[i + 1] ?? '';
  const hexLength = next === 'u' ? 4 : next === 'x' ? 2 : 0;
  if (hexLength > 0) {
    const hex = text.slice(i + 2, i + 2 + hexLength);
    if (hex.length === hexLength && HEX.test(hex)) return { char: String.fromCharCode(parseInt(hex, 16)), width: 2 + hexLength };
  }
  const simple = SIMPLE_ESCAPES[next];
  return simple === undefined ? undefined : { char: simple, width: 2 };
}

const HEX = /^[0-9a-fA-F]+$/;
const HEX_BYTE = /^[0-9a-fA-F]{2}$/;

/**
 * Merges overlapping findings into one covering them all. The merged finding keeps the first specific (not generic)
 * finding's rule, else the first one's: dropping an overlapping match instead would leave the part of it that sticks
 * out of the kept one in clear text.
 */
function mergeOverlaps(findings: SafetyFinding[]): SafetyFinding[] {
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: SafetyFinding[] = [];
  let current: SafetyFinding | undefined;
  for (const f of sorted) {
    if (current !== undefined && f.start < current.end) {
      if (f.end > current.end) current.end = f.end;
      if (current.rule === GENERIC_RULE && f.rule !== GENERIC_RULE) {
        current.rule = f.rule;
        current.redacted = f.redacted;
      }
      continue;
    }
    current = { ...f };
    out.push(current);
  }
  return out;
}

const GENERIC_RULE = 'generic-api-key';

/** `keywords.some((k) => text.includes(k))` without a closure per call (this runs for every rule on every string). */
function containsAny(text: string, keywords: readonly string[]): boolean {
  for (const keyword of keywords) if (text.includes(keyword)) return true;
  return false;
}

/**
 * Removes findings that overlap an earlier-starting (or, at equal start, longer) one.
 *
 * @example
 * dropOverlaps([{ start: 0, end: 5 }, { start: 2, end: 4 }]).length; // 1
 */
export function dropOverlaps<T extends { start: number; end: number }>(findings: T[]): T[] {
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: T[] = [];
  let reach = -1;
  for (const f of sorted) {
    if (f.start < reach) continue;
    out.push(f);
    reach = f.end;
  }
  return out;
}

/**
 * Replaces each finding's span by its `redacted` text. A finding overlapping an earlier one is merged into it (the
 * earlier mask stands for both), so no part of either is left in clear text.
 *
 * @example
 * applyRedactions('key sk', [{ start: 4, end: 6, redacted: '[X]' }]); // 'key [X]'
 */
export function applyRedactions(text: string, findings: readonly { start: number; end: number; redacted: string }[]): string {
  const sorted = [...findings].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const f of sorted) {
    if (f.start < at) {
      at = Math.max(at, f.end);
      continue;
    }
    out += text.slice(at, f.start) + f.redacted;
    at = f.end;
  }
  return out + text.slice(at);
}

/**
 * Returns `text` with every detected secret replaced by `[REDACTED:<rule id>]`. Use it before a
 * tool argument, tool output or log line is stored anywhere.
 *
 * @example
 * redactSecrets(`aws_key=${'AKIA' + 'Z7Q2MNXL4PWR6TYB'}`); // 'aws_key=[REDACTED:aws-access-token]'
 */
export function redactSecrets(text: string): string {
  return applyRedactions(text, detectSecrets(text));
}

/**
 * Deeply redacts secrets in every string of a value: values and keys of plain objects, arrays, Maps and Sets. A
 * string held under a key is scanned as `key=value`, so a credential-like key names its value as gitleaks sees it in
 * JSON (`{ password: '…' }`, `{ api_key: '…' }`). Other objects are answered with what a serialiser would read from
 * them: the redacted result of `toJSON()` when they have one, else a copy with the same prototype whose own data
 * properties are redacted (an Error's message and stack included). Dates, typed arrays, ArrayBuffers and objects
 * without own properties (Promises, WeakMaps…) are returned unchanged: they hold no text. Shared objects and cycles
 * are copied once and the copy is reused (the result has the same shape, cycles included), so it never hands back an
 * unredacted original. An object or array nested deeper than {@link MAX_REDACTION_DEPTH} levels is replaced by
 * {@link REDACTION_DEPTH_MARKER} (never returned as it was, and never a stack overflow).
 *
 * @example
 * redactSecretsDeep({ args: { token: 'ghp_…' } });
 */
export function redactSecretsDeep<T>(value: T): T {
  return redactValue(value, new Map(), 0) as T;
}

/**
 * How many levels of objects and arrays (a `toJSON()` hop counts as one) {@link redactSecretsDeep} walks. The walk is
 * recursive, a few stack frames per level: without a bound, an array nested 3,000 deep in an event body threw a
 * RangeError (the server answered 500). JSON that people and agents write is far shallower.
 */
export const MAX_REDACTION_DEPTH = 256;

/** What {@link redactSecretsDeep} puts in place of an object or array nested deeper than {@link MAX_REDACTION_DEPTH}. */
export const REDACTION_DEPTH_MARKER = '[REDACTED:nested-too-deep]';

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

// `copies` maps each object already visited to its redacted copy: an object met again (shared, or a cycle back
// to an ancestor) is answered with that copy, never with the original and its secrets. A Map dropped when the call
// returns is also cheaper for the collector than a WeakMap/WeakSet, whose entries every scavenge processes.
function redactValue(value: unknown, copies: Map<object, unknown>, depth: number): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  const known = copies.get(value);
  if (known !== undefined) return known;
  // Not cached: the same object met again at a shallower level is copied there.
  if (depth >= MAX_REDACTION_DEPTH) return REDACTION_DEPTH_MARKER;
  // What JSON.stringify would write is what toJSON() returns (a plain object may have one too).
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function' && !(value instanceof Date)) {
    const json: unknown = toJSON.call(value);
    if (json !== value) {
      copies.set(value, null); // a cycle back through toJSON() (JSON.stringify would throw on it) becomes null
      const serialised = redactValue(json, copies, depth + 1);
      copies.set(value, serialised);
      return serialised;
    }
  }
  if (Array.isArray(value)) {
    const out: unknown[] = new Array<unknown>(value.length);
    copies.set(value, out);
    const strings: number[] = [];
    for (let i = 0; i < value.length; i += 1) {
      if (typeof value[i] === 'string') strings.push(i);
      else out[i] = redactValue(value[i], copies, depth + 1);
    }
    const masked = redactStringItems(strings.map((i) => value[i] as string));
    strings.forEach((at, k) => (out[at] = masked[k]));
    return out;
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    copies.set(value, out);
    copyEntries(value as Record<string, unknown>, out, copies, depth + 1);
    return out;
  }
  return redactInstance(value, copies, depth + 1);
}

/** Copies the own enumerable entries of `source` into `out`, keys and values redacted. */
function copyEntries(source: Record<string, unknown>, out: Record<string, unknown>, copies: Map<object, unknown>, depth: number): void {
  // Next free suffix per masked name: searching from 2 for every masked key was quadratic in the number of keys that
  // mask alike (40,000 token keys in a 1 MB event body stalled the event loop for minutes).
  const suffixes = new Map<string, number>();
  for (const key of Object.keys(source)) {
    const item = source[key];
    if (key === 'toJSON' && typeof item === 'function') continue; // it returned the original itself (see redactValue)
    let name: string;
    let redacted: unknown;
    if (typeof item === 'string') [name, redacted] = redactAssignment(key, item);
    else [name, redacted] = [redactSecrets(key), redactValue(item, copies, depth)];
    // Two keys masked to the same text must not overwrite each other.
    if (name !== key && Object.prototype.hasOwnProperty.call(out, name)) {
      const base = name;
      let n = suffixes.get(base) ?? 2;
      while (Object.prototype.hasOwnProperty.call(out, (name = `${base} (${n})`))) n += 1;
      suffixes.set(base, n + 1);
    }
    // An own "__proto__" key (JSON.parse makes one) must stay a key, not become the copy's prototype.
    if (name === '__proto__') Object.defineProperty(out, name, { value: redacted, enumerable: true, writable: true, configurable: true });
    else out[name] = redacted;
  }
}

/**
 * Redacts the string items of an array, each alone and all joined by line breaks, so a secret split over items (a
 * private key block as an array of lines) is masked piece by piece in every item that holds a piece.
 */
function redactStringItems(items: readonly string[]): string[] {
  const spans = items.map((item) => detectSecrets(item));
  if (items.length > 1) {
    const findings = detectSecrets(items.join('\n'));
    let offset = 0;
    items.forEach((item, k) => {
      const end = offset + item.length;
      for (const f of findings) {
        if (f.start < end && offset < f.end) spans[k]?.push({ ...f, start: Math.max(f.start, offset) - offset, end: Math.min(f.end, end) - offset });
      }
      offset = end + 1;
    });
  }
  return items.map((item, k) => applyRedactions(item, spans[k] ?? []));
}

/**
 * Redacts a key and its string value scanned together as `key=value`: the key is what makes `{ password: '…' }` a
 * credential for the keyword rules, and a secret may sit in the key itself (a map keyed by token).
 */
function redactAssignment(key: string, value: string): [string, string] {
  const joined = `${key}=${value}`;
  const findings = detectSecrets(joined);
  if (findings.length === 0) return [key, value];
  const offset = key.length + 1;
  const inKey: SafetyFinding[] = [];
  const inValue: SafetyFinding[] = [];
  for (const f of findings) {
    if (f.start < key.length) inKey.push({ ...f, end: Math.min(f.end, key.length) });
    if (f.end > offset) inValue.push({ ...f, start: Math.max(f.start, offset) - offset, end: f.end - offset });
  }
  return [applyRedactions(key, inKey), applyRedactions(value, inValue)];
}

/** A class instance, Map, Set, Error…: what a serialiser would read from it, redacted. */
function redactInstance(value: object, copies: Map<object, unknown>, depth: number): unknown {
  if (value instanceof Date || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  if (value instanceof Map) {
    const out = new Map<unknown, unknown>();
    copies.set(value, out);
    for (const [k, v] of value) out.set(redactValue(k, copies, depth), redactValue(v, copies, depth));
    return out;
  }
  if (value instanceof Set) {
    const out = new Set<unknown>();
    copies.set(value, out);
    for (const item of value) out.add(redactValue(item, copies, depth));
    return out;
  }
  const names = Object.getOwnPropertyNames(value);
  if (names.length === 0) return value;
  const out = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
  copies.set(value, out);
  for (const name of names) {
    const descriptor = Object.getOwnPropertyDescriptor(value, name);
    if (descriptor === undefined || (name === 'toJSON' && typeof descriptor.value === 'function')) continue;
    if ('value' in descriptor) descriptor.value = redactValue(descriptor.value, copies, depth);
    Object.defineProperty(out, redactSecrets(name), descriptor);
  }
  return out;
}
