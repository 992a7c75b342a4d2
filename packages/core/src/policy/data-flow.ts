import { createHash } from 'node:crypto';

/**
 * Data-flow tracking. Values a sensitive tool returns are remembered in the session as short
 * fingerprints of their normalized text (never the text itself); a later call whose arguments
 * contain one of them, as a whole argument, a word or a run of up to 4 words, matches.
 */

/** Turns a normalized value into the fingerprint stored in session state. */
export type Fingerprint = (normalized: string) => string;

/** Longest run of words remembered as one value (e.g. a name or an address line). */
export const MAX_WINDOW_WORDS = 4;

/** Bounds on how much of one call's arguments is scanned; past them the scan is incomplete. */
export const DEFAULT_SCAN_LIMITS = { maxLeaves: 10_000, maxDepth: 32, maxChars: 1_000_000 };

export type ScanLimits = typeof DEFAULT_SCAN_LIMITS;

/**
 * Default fingerprint: the first 16 hex digits of SHA-256. The server passes a keyed HMAC
 * instead so that stored fingerprints of low-entropy values cannot be guessed offline.
 *
 * @example
 * sha256Fingerprint('jane@example.com') // '…16 hex digits…'
 */
export const sha256Fingerprint: Fingerprint = (normalized) =>
  createHash('sha256').update(normalized).digest('hex').slice(0, 16);

const EDGE_PUNCTUATION = /^[\s"'`.,;:!?()[\]{}<>]+|[\s"'`.,;:!?()[\]{}<>]+$/g;
const NUMBER_LIKE = /^\+?[\d\s().-]*\d[\d\s().-]*$/;

/** Invisible format characters (zero-width space and joiners, soft hyphen, BOM, direction marks). */
const INVISIBLE = /\p{Cf}/gu;

/**
 * Normalizes text for matching: Unicode NFKC, invisible format characters removed (a zero-width
 * space inside an email hides nothing), lower case, single spaces, and number-like values (phone
 * numbers, SSNs, card numbers) reduced to their digits.
 *
 * @example
 * normalizeValue(' Jane.Doe@Example.com ') // 'jane.doe@example.com'
 * normalizeValue('123-45-6789') // '123456789'
 */
export function normalizeValue(text: string): string {
  const folded = text.normalize('NFKC').replace(INVISIBLE, '').toLowerCase().replace(/\s+/g, ' ').trim();
  return NUMBER_LIKE.test(folded) ? folded.replace(/\D/g, '') : folded;
}

/** Splits normalized text into words with surrounding punctuation removed. */
export function toWords(normalized: string): string[] {
  const words: string[] = [];
  for (const raw of normalized.split(' ')) {
    const word = raw.replace(EDGE_PUNCTUATION, '');
    if (word !== '') words.push(NUMBER_LIKE.test(word) ? word.replace(/\D/g, '') : word);
  }
  return words;
}

/** What one sensitive value contributes to the session: its fingerprint and its word count. */
export interface TaintEntry {
  readonly fingerprint: string;
  /** 0 when the value is longer than MAX_WINDOW_WORDS words (matched only as a whole argument). */
  readonly words: number;
}

/**
 * Fingerprints one value returned by a sensitive tool, or returns null when it is too short.
 *
 * @example
 * taintValue('Jane Doe', 4, sha256Fingerprint) // { fingerprint: '…', words: 2 }
 */
export function taintValue(value: string, minLength: number, fingerprint: Fingerprint): TaintEntry | null {
  const normalized = normalizeValue(value);
  if (normalized.length < minLength) return null;
  const form = rememberedForm(normalized);
  return { fingerprint: fingerprint(form.text), words: form.words };
}

/** What a normalized value is remembered as: its words joined by one space (1 to 4 words, `words`), else the whole text (`words` 0). */
function rememberedForm(normalized: string): { text: string; words: number } {
  const words = toWords(normalized);
  return words.length >= 1 && words.length <= MAX_WINDOW_WORDS ? { text: words.join(' '), words: words.length } : { text: normalized, words: 0 };
}

/**
 * Collects the string and number leaves of a tool output, optionally only under dotted `fields`
 * paths (arrays are walked through). Stops at the scan limits.
 *
 * @example
 * collectLeaves({ email: 'a@b.c', id: 7 }, ['email']) // ['a@b.c']
 */
export function collectLeaves(output: unknown, fields: readonly string[] | undefined, limits = DEFAULT_SCAN_LIMITS): string[] {
  const leaves: string[] = [];
  const expanded = expandJsonText(output, 0, { left: MAX_PARSED_OUTPUT_TEXTS });
  const roots = fields === undefined ? [expanded] : fields.flatMap((field) => selectPath(expanded, field.split('.')));
  for (const root of roots) walkLeaves(root, 0, limits, leaves, false);
  return leaves;
}

/** JSON texts one output may have parsed in place (a string leaf holding an object or array). */
const MAX_PARSED_OUTPUT_TEXTS = 1_000;

/**
 * A tool output as its values: a string holding a JSON object or array is read as that value (a tool that returns
 * `JSON.stringify(record)`), and an MCP tool result (`{ content: [{ type: 'text', text }], structuredContent? }`) as
 * its texts (each parsed when it is JSON) and its structured content. Without this a source's `fields` found nothing
 * in such outputs and nothing was remembered, so data-flow rules never fired for MCP and string-returning tools.
 */
function expandJsonText(value: unknown, depth: number, budget: { left: number }): unknown {
  if (depth > DEFAULT_SCAN_LIMITS.maxDepth) return value;
  if (typeof value === 'string') {
    if (budget.left <= 0) return value;
    const parsed = parseJsonText(value);
    if (parsed === undefined) return value;
    budget.left -= 1;
    return expandJsonText(parsed, depth + 1, budget);
  }
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => expandJsonText(item, depth + 1, budget));
  const record = value as Record<string, unknown>;
  const content = record.content;
  if (Array.isArray(content) && content.length > 0 && content.every((item) => typeof item === 'object' && item !== null && typeof (item as { type?: unknown }).type === 'string')) {
    const parts: unknown[] = [];
    for (const item of content as Array<{ type: string; text?: unknown }>) if (item.type === 'text' && typeof item.text === 'string') parts.push(expandJsonText(item.text, depth + 1, budget));
    if (record.structuredContent !== undefined) parts.push(expandJsonText(record.structuredContent, depth + 1, budget));
    if (parts.length > 0) return parts.length === 1 ? parts[0] : parts;
  }
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(record)) copy[key] = expandJsonText(child, depth + 1, budget);
  return copy;
}

const EMAIL_TOKEN = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu;
const NUMBER_TOKEN = /\+?\d[\d ().-]{5,}\d/g;

/**
 * The e-mail addresses and long numbers (7 digits or more: phones, account and id numbers) inside a longer text.
 * A text of more than MAX_WINDOW_WORDS words is remembered as a whole, which only an exact copy of all of it matches;
 * its addresses and numbers are remembered on their own too.
 *
 * @example
 * identifierTokens('Reach Jane at jane@example.com or +1 415 555 0100.') // ['jane@example.com', '+1 415 555 0100']
 */
export function identifierTokens(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(EMAIL_TOKEN)) found.push(match[0].replace(/^[._%+-]+|[._-]+$/g, ''));
  for (const match of text.matchAll(NUMBER_TOKEN)) if (match[0].replace(/\D/g, '').length >= 7) found.push(match[0]);
  return found;
}

function selectPath(value: unknown, segments: readonly string[]): unknown[] {
  if (segments.length === 0) return [value];
  if (Array.isArray(value)) return value.flatMap((item) => selectPath(item, segments));
  if (typeof value !== 'object' || value === null) return [];
  const [head, ...rest] = segments;
  if (head === undefined || !Object.hasOwn(value, head)) return [];
  return selectPath((value as Record<string, unknown>)[head], rest);
}

/**
 * Walks leaves depth-first; returns false when a limit was hit (the scan is then incomplete).
 * Object keys count as leaves when `includeKeys` is set: a value can hide in a key.
 */
export function walkLeaves(
  value: unknown, depth: number, limits: ScanLimits, out: string[], includeKeys: boolean,
): boolean {
  if (out.length >= limits.maxLeaves || depth > limits.maxDepth) return false;
  if (typeof value === 'string') { out.push(value.length > limits.maxChars ? value.slice(0, limits.maxChars) : value); return value.length <= limits.maxChars; }
  if (typeof value === 'number' || typeof value === 'bigint') { out.push(String(value)); return true; }
  if (typeof value !== 'object' || value === null) return true;
  const items = Array.isArray(value) ? value : Object.entries(value);
  for (const item of items) {
    if (Array.isArray(value)) {
      if (!walkLeaves(item, depth + 1, limits, out, includeKeys)) return false;
      continue;
    }
    const [key, child] = item as [string, unknown];
    if (includeKeys) out.push(key);
    if (!walkLeaves(child, depth + 1, limits, out, includeKeys)) return false;
  }
  return true;
}

/** Result of looking for remembered values in a call's arguments. */
export interface FlowScan {
  readonly labels: ReadonlySet<string>;
  /** True when the arguments were too large or deep to scan completely. */
  readonly incomplete: boolean;
}

/**
 * Looks for remembered fingerprints in a call's arguments: each leaf as a whole, and each run of
 * 1..4 words (only the run lengths some remembered value has). String leaves that are JSON objects or
 * arrays are scanned as their values (within the same limits).
 *
 * @example
 * scanForTaints({ body: 'Her email: jane@example.com' }, taints, new Set([1]), sha256Fingerprint)
 */
export function scanForTaints(
  args: unknown,
  taints: ReadonlyMap<string, readonly string[]>,
  windowSizes: ReadonlySet<number>,
  fingerprint: Fingerprint,
  limits = DEFAULT_SCAN_LIMITS,
): FlowScan {
  const labels = new Set<string>();
  const complete = visitCandidates(args, windowSizes, (text) => {
    for (const label of taints.get(fingerprint(text)) ?? []) labels.add(label);
  }, limits);
  return { labels, incomplete: !complete };
}

/** Result of looking for values returned to the agent (any session) in a call's arguments. */
export interface AgentFlowScan {
  /** Label → the latest time a value with that label, found in the arguments, was returned to the agent. */
  readonly labels: ReadonlyMap<string, number>;
  readonly incomplete: boolean;
}

/**
 * {@link scanForTaints} over an agent's remembered values ({@link AgentTaints}): reports, per label, when the agent
 * was last given a value the arguments carry, so each rule can apply its own window.
 *
 * @example
 * scanForAgentTaints({ to: 'jane@example.com' }, agentTaints, sha256Fingerprint).labels.get('customer_pii') // epoch ms
 */
export function scanForAgentTaints(
  args: unknown,
  taints: AgentTaints,
  fingerprint: Fingerprint,
  limits = DEFAULT_SCAN_LIMITS,
): AgentFlowScan {
  const labels = new Map<string, number>();
  const complete = visitCandidates(args, taints.windowSizes, (text) => {
    const found = taints.entries.get(fingerprint(text));
    if (found === undefined) return;
    for (const label of found.labels) if ((labels.get(label) ?? Number.NEGATIVE_INFINITY) < found.at) labels.set(label, found.at);
  }, limits);
  return { labels, incomplete: !complete };
}

/**
 * Calls `check` with every normalized text of the arguments a remembered value could equal; false when the arguments
 * were too large or deep to visit completely.
 */
function visitCandidates(args: unknown, windowSizes: ReadonlySet<number>, checkOnce: (text: string) => void, limits: ScanLimits): boolean {
  // Each distinct word is fingerprinted once per scan (a keyed hash is ~1.5 µs; words repeat in real text).
  const seen = new Set<string>();
  const check = (text: string): void => {
    // Single words repeat; runs of words rarely do, and remembering them cost more than it saved.
    if (text.includes(' ')) {
      checkOnce(text);
      return;
    }
    if (seen.has(text)) return;
    if (seen.size < MAX_DEDUPLICATED_PER_SCAN) seen.add(text);
    checkOnce(text);
  };
  const leaves: string[] = [];
  const complete = walkLeaves(args, 0, limits, leaves, true);
  /** Layers of encoding undone to reach each leaf (0: as sent), parallel to `leaves`. */
  const layers: number[] = leaves.map(() => 0);
  let chars = 0;
  let decoded = 0;
  // `leaves` grows while it is read: the values inside JSON text and decoded text are appended and scanned in turn.
  for (let index = 0; index < leaves.length; index += 1) {
    const leaf = leaves[index] ?? '';
    const layer = layers[index] ?? 0;
    const parsed = parseJsonText(leaf);
    if (parsed !== undefined) {
      if (!walkLeaves(parsed, 0, limits, leaves, true)) return false;
      while (layers.length < leaves.length) layers.push(layer);
      continue;
    }
    chars += leaf.length;
    if (chars > limits.maxChars) return false;
    const normalized = normalizeValue(leaf);
    check(normalized);
    const words = toWords(normalized);
    for (const size of windowSizes) {
      if (size === 1) for (const word of words) check(word);
      else for (let start = 0; start + size <= words.length; start += 1) check(words.slice(start, start + size).join(' '));
    }
    checkDigitRuns(words, check);
    if (PIECE_SEPARATORS.test(normalized)) checkPieces(words, windowSizes, check);
    if (layer < MAX_DECODE_LAYERS) {
      for (const text of decodings(leaf)) {
        // Past the bound the scan is incomplete (fail closed): padding the arguments with decodable tokens must not
        // push the one that matters out of reach.
        if (++decoded > MAX_DECODED_PER_SCAN) return false;
        leaves.push(text);
        layers.push(layer + 1);
      }
    }
  }
  checkSplitValues(args, check, limits);
  return complete;
}

/** Longest argument value (characters) tried as a part of a value split across arguments. */
const MAX_SPLIT_PART = 64;

/**
 * A value split across neighbouring arguments (`{ first: 'Jane', last: 'Doe' }`, `{ user: 'jane.doe', domain:
 * 'example.com' }`, an SSN in three fields) is checked joined again: each pair and triple of neighbouring short values
 * (in the order they were sent) with a space, a pair also with `@`, and runs of numbers as their digits.
 */
function checkSplitValues(args: unknown, check: (text: string) => void, limits: ScanLimits): void {
  if (typeof args !== 'object' || args === null) return;
  const values: string[] = [];
  walkLeaves(args, 0, limits, values, false);
  const remembered = (text: string): string => rememberedForm(normalizeValue(text)).text;
  let previous: string | undefined;
  let beforePrevious: string | undefined;
  for (const raw of values) {
    const value = raw.length <= MAX_SPLIT_PART ? normalizeValue(raw) : '';
    if (value === '') {
      previous = undefined;
      beforePrevious = undefined;
      continue;
    }
    if (previous !== undefined) {
      check(remembered(`${previous} ${value}`));
      if (!previous.includes('@') && !value.includes('@') && value.includes('.')) check(`${previous}@${value}`);
      if (DIGITS.test(previous) && DIGITS.test(value)) check(previous + value);
      if (beforePrevious !== undefined) {
        check(remembered(`${beforePrevious} ${previous} ${value}`));
        if (DIGITS.test(beforePrevious) && DIGITS.test(previous) && DIGITS.test(value)) check(beforePrevious + previous + value);
      }
    }
    beforePrevious = previous;
    previous = value;
  }
}

/** Anything that is not part of a value's own text: letters, digits and `@ . - _` (e-mail, domain, id, number). */
const PIECE_SEPARATORS = /[^\p{L}\p{N}\p{M}@._ -]/u;
const PIECE_SEPARATOR_RUN = /[^\p{L}\p{N}\p{M}@._-]+/u;

/**
 * A value glued to punctuation is no word of its own: in a URL or query string
 * (`https://x.example/c?email=jane@example.com`), a CSV row (`Jane Doe,jane@example.com,123-45-6789`), `key:value`
 * text (`ssn:123-45-6789`), a Markdown link (`[Jane](mailto:jane@example.com)`) or `to=a;cc=b`. The words are split
 * once more at every character that is not a letter, digit, mark or `@ . - _`, and their pieces checked like words
 * (runs of them too).
 */
function checkPieces(words: readonly string[], windowSizes: ReadonlySet<number>, check: (text: string) => void): void {
  const pieces: string[] = [];
  for (const word of words) {
    for (const raw of word.split(PIECE_SEPARATOR_RUN)) {
      const piece = raw.replace(EDGE_PUNCTUATION, '');
      if (piece !== '') pieces.push(NUMBER_LIKE.test(piece) ? piece.replace(/\D/g, '') : piece);
    }
  }
  for (const piece of pieces) check(piece);
  checkDigitRuns(pieces, check);
  for (const size of windowSizes) {
    if (size < 2) continue;
    for (let start = 0; start + size <= pieces.length; start += 1) check(pieces.slice(start, start + size).join(' '));
  }
}

/** Distinct words remembered per scan to skip fingerprinting them again (past it, repeats are fingerprinted again). */
const MAX_DEDUPLICATED_PER_SCAN = 200_000;

/**
 * Layers of encoding undone before matching: base64 of a percent-encoded value is two. An agent (or an instruction
 * injected into it) that encodes a remembered value before sending it is still caught.
 */
export const MAX_DECODE_LAYERS = 2;
/** Decoded texts one scan may add; past it the scan is incomplete and data-flow rules fail closed. */
export const MAX_DECODED_PER_SCAN = 10_000;

const PERCENT_RUN = /(?:%[0-9a-fA-F]{2})+/g;
const HAS_PERCENT = /%[0-9a-fA-F]{2}/;
/** Separators of the tokens tried as base64 or hex (base64's own `+ / = - _` are not among them). */
const TOKEN_SEPARATORS = /[\s"'`,;:()[\]{}<>|&?]+/;
const BASE64_TOKEN = /^[A-Za-z0-9+/_-]{8,}={0,2}$/;
const HEX_TOKEN = /^(?:[0-9a-fA-F]{2}){4,}$/;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
/** Control characters other than tab and line breaks: decoded bytes holding them are not text. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * The texts hidden in one argument value by common encodings: the value percent-decoded (URL escapes, `+` as space),
 * and each token of at least 8 characters that is base64 / base64url or hex and decodes to printable UTF-8 text.
 *
 * @example
 * decodings('contact: amFuZS5kb2VAZXhhbXBsZS5jb20=') // ['jane.doe@example.com']
 */
export function decodings(text: string): string[] {
  const found: string[] = [];
  if (HAS_PERCENT.test(text)) {
    const unescaped = text.replace(/\+/g, ' ').replace(PERCENT_RUN, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
    if (unescaped !== text) found.push(unescaped);
  }
  if (text.length < 8) return found;
  for (const token of text.split(TOKEN_SEPARATORS)) {
    if (token.length < 8) continue;
    if (HEX_TOKEN.test(token)) pushText(found, Buffer.from(token, 'hex'));
    const unpadded = token.replace(/=+$/, '');
    if (BASE64_TOKEN.test(token) && unpadded.length % 4 !== 1) pushText(found, Buffer.from(unpadded, 'base64'));
  }
  return found;
}

function pushText(found: string[], bytes: Uint8Array): void {
  if (bytes.length < 4) return;
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    return;
  }
  if (!CONTROL.test(text)) found.push(text);
}

/** Most values remembered per agent (the most recently returned); the oldest are forgotten first. */
export const MAX_AGENT_TAINTS = 10_000;

/**
 * The values returned to one agent in all its sessions, for data-flow rules with `across: agent`: fingerprint →
 * the labels of the sources that returned it and when it was last returned. Updated in place with
 * {@link recordAgentTaints}; at most {@link MAX_AGENT_TAINTS} values, the least recently returned forgotten first.
 */
export interface AgentTaints {
  readonly entries: Map<string, { labels: readonly string[]; at: number }>;
  /** Word counts of remembered values, so a scan only tries those run lengths. */
  readonly windowSizes: Set<number>;
  /**
   * When the most recently returned of the values dropped for space was returned (-Infinity while none was): a
   * data-flow rule whose window reaches back past it cannot be sure it would have found a value, and fails closed.
   */
  droppedNewestAt?: number;
}

/**
 * An agent with no remembered values.
 *
 * @example
 * const taints = createAgentTaints();
 */
export function createAgentTaints(): AgentTaints {
  return { entries: new Map(), windowSizes: new Set() };
}

/**
 * Remembers values returned to the agent at `at` (in place). Idempotent: recording the same value again (a replica
 * reloading what it already applied) merges its labels and keeps the later time.
 *
 * @example
 * recordAgentTaints(taints, [['ab12…', ['customer_pii']]], [1, 2], Date.now());
 */
export function recordAgentTaints(
  taints: AgentTaints,
  added: ReadonlyArray<readonly [string, readonly string[]]>,
  windowSizes: Iterable<number>,
  at: number,
  max = MAX_AGENT_TAINTS,
): void {
  for (const size of windowSizes) if (Number.isInteger(size) && size >= 1 && size <= MAX_WINDOW_WORDS) taints.windowSizes.add(size);
  for (const [fingerprint, labels] of added) {
    const seen = taints.entries.get(fingerprint);
    if (seen === undefined) {
      taints.entries.set(fingerprint, { labels: [...labels], at });
    } else {
      const merged = labels.every((label) => seen.labels.includes(label)) ? seen.labels : [...new Set([...seen.labels, ...labels])];
      if (at > seen.at) {
        taints.entries.delete(fingerprint); // re-inserted last: the most recently returned
        taints.entries.set(fingerprint, { labels: merged, at });
      } else if (merged !== seen.labels) {
        taints.entries.set(fingerprint, { labels: merged, at: seen.at });
      }
    }
  }
  for (const [oldest, entry] of taints.entries) {
    if (taints.entries.size <= max) break;
    taints.entries.delete(oldest);
    taints.droppedNewestAt = Math.max(taints.droppedNewestAt ?? Number.NEGATIVE_INFINITY, entry.at);
  }
}

/**
 * A string argument holding a JSON object or array (a request body, say) is scanned as the values it holds:
 * as text, `{"email":"jane@example.com"}` is a single word that matches nothing.
 */
function parseJsonText(text: string): object | undefined {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

const DIGITS = /^\d+$/;

/** Most groups of digits tried joined: `+33 1 23 45 67 89` is six. */
const MAX_DIGIT_GROUPS = 8;

/** A number written with spaces ("123 45 6789") is several words; try adjacent digit words joined. */
function checkDigitRuns(words: readonly string[], check: (text: string) => void): void {
  for (let start = 0; start < words.length; start += 1) {
    let joined = words[start] ?? '';
    if (!DIGITS.test(joined)) continue;
    for (let end = start + 1; end < words.length && end < start + MAX_DIGIT_GROUPS; end += 1) {
      const next = words[end] ?? '';
      if (!DIGITS.test(next)) break;
      joined += next;
      check(joined);
    }
  }
}
