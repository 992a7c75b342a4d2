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
 * stopword checks. Overlapping findings keep the first, longest one.
 *
 * @example
 * detectSecrets('token = ' + 'ghp_' + 'x'.repeat(36)); // [] — entropy too low
 */
export function detectSecrets(text: string, rules: readonly SecretRule[] = SECRET_RULES): SafetyFinding[] {
  const lower = text.toLowerCase();
  const found: SafetyFinding[] = [];
  for (const rule of rules) {
    if (!containsAny(lower, rule.keywords)) continue;
    // matchAll clones the rule's regex, so the shared RegExp's lastIndex is never touched.
    for (const m of text.matchAll(rule.regex)) {
      const span = m.indices?.[rule.secretGroup];
      const secret = m[rule.secretGroup];
      if (!span || secret === undefined || !accepted(rule, secret)) continue;
      // Never end a span on a backslash: in JSON text (log lines) it would orphan the next escape.
      let end = span[1];
      while (end > span[0] && text.charCodeAt(end - 1) === 92) end--;
      found.push({ type: 'secret', rule: rule.id, start: span[0], end, redacted: maskSecret(rule.id) });
    }
  }
  if (found.length === 0) return found;
  // A specific rule beats the generic one on the same span (gitleaks reports the specific id too).
  const specific = found.filter((f) => f.rule !== GENERIC_RULE);
  const generic = found.filter((f) => f.rule === GENERIC_RULE && !specific.some((s) => f.start < s.end && s.start < f.end));
  return dropOverlaps([...specific, ...generic]);
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
 * Replaces each finding's span by its `redacted` text. Findings must not overlap.
 *
 * @example
 * applyRedactions('key sk', [{ start: 4, end: 6, redacted: '[X]' }]); // 'key [X]'
 */
export function applyRedactions(text: string, findings: readonly { start: number; end: number; redacted: string }[]): string {
  const sorted = [...findings].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const f of sorted) {
    if (f.start < at) continue;
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
 * Deeply redacts secrets in every string of a JSON-like value (plain objects, arrays, strings).
 * Keys are kept; numbers, booleans and class instances (Dates, Errors, sockets, requests…) are
 * returned unchanged. Shared objects and cycles are copied once and the copy is reused (the result has the same
 * shape, cycles included), so it is safe on log objects too and never hands back an unredacted original.
 *
 * @example
 * redactSecretsDeep({ args: { token: 'ghp_…' } });
 */
export function redactSecretsDeep<T>(value: T): T {
  return redactValue(value, new Map()) as T;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

// `copies` maps each object already visited to its redacted copy: an object met again (shared, or a cycle back
// to an ancestor) is answered with that copy, never with the original and its secrets. A Map dropped when the call
// returns is also cheaper for the collector than a WeakMap/WeakSet, whose entries every scavenge processes.
function redactValue(value: unknown, copies: Map<object, unknown>): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  const known = copies.get(value);
  if (known !== undefined) return known;
  if (Array.isArray(value)) {
    const out: unknown[] = new Array<unknown>(value.length);
    copies.set(value, out);
    for (let i = 0; i < value.length; i += 1) out[i] = redactValue(value[i], copies);
    return out;
  }
  if (!isPlainObject(value)) return value;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  copies.set(value, out);
  for (const key of Object.keys(source)) {
    const redacted = redactValue(source[key], copies);
    // An own "__proto__" key (JSON.parse makes one) must stay a key, not become the copy's prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: redacted, enumerable: true, writable: true, configurable: true });
    else out[key] = redacted;
  }
  return out;
}
