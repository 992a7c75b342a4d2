import { isIPv4, isIPv6 } from 'node:net';
import type { SafetyFinding } from './types.js';

/**
 * PII detectors. Each has a candidate regex (bounded quantifiers only) and, where the format has
 * one, a validity check, so that ordinary numbers are not reported:
 * - `pii.email`     — RFC-5321-shaped address (local part ≤ 64 chars, a dotted domain with a letter TLD).
 * - `pii.phone`     — international (`+CC …`) or grouped national numbers with 9–15 digits.
 * - `pii.card`      — 13–19 digits, issuer prefix 2–6, Luhn checksum.
 * - `pii.iban`      — country code, check digits, ISO 13616 length for the country, mod-97 = 1.
 * - `pii.us-ssn`    — `AAA-GG-SSSS` with the SSA rules: area not 000, 666 or 900–999, group not 00,
 *                     serial not 0000; the two numbers once used in advertising are rejected.
 * - `pii.ipv4` / `pii.ipv6` — validated with `node:net`.
 */
interface PiiDetector {
  rule: string;
  mask: string;
  regex: RegExp;
  valid?: (match: string) => boolean;
}

/**
 * True when the digits of `value` pass the Luhn checksum.
 *
 * @example
 * luhnValid('4111 1111 1111 1111'); // true
 */
export function luhnValid(value: string): boolean {
  const digits = value.replace(/\D/g, '');
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

// ISO 13616 IBAN lengths per country (SWIFT IBAN registry).
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28,
  CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18,
  GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32,
  LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24,
  PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, TL: 23, TN: 24,
  TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
};

/**
 * True for a well-formed IBAN: known country, its registered length, and mod-97 remainder 1.
 *
 * @example
 * ibanValid('DE89 3704 0044 0532 0130 00'); // true
 */
export function ibanValid(value: string): boolean {
  const iban = value.replace(/\s/g, '').toUpperCase();
  if (IBAN_LENGTHS[iban.slice(0, 2)] !== iban.length) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const part = code >= 65 ? String(code - 55) : ch;
    for (const digit of part) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return remainder === 1;
}

/**
 * True for a US Social Security number that the SSA could have issued (see module comment).
 *
 * @example
 * ssnValid('123-45-6789'); // true
 * ssnValid('666-12-3456'); // false
 */
export function ssnValid(value: string): boolean {
  const m = /^(\d{3})-(\d{2})-(\d{4})$/.exec(value);
  if (!m) return false;
  const [, area, group, serial] = m as unknown as [string, string, string, string];
  if (area === '000' || area === '666' || area.startsWith('9')) return false;
  if (group === '00' || serial === '0000') return false;
  return value !== '078-05-1120' && value !== '219-09-9999';
}

function phoneValid(value: string): boolean {
  const digits = value.replace(/\D/g, '').length;
  return digits >= 9 && digits <= 15;
}

const DETECTORS: readonly PiiDetector[] = [
  { rule: 'pii.email', mask: '[EMAIL]', regex: /\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b/g },
  // Case-insensitive: bank forms and IBAN validators accept (and normalise) a lower-case IBAN.
  { rule: 'pii.iban', mask: '[IBAN]', regex: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/gi, valid: ibanValid },
  { rule: 'pii.us-ssn', mask: '[SSN]', regex: /\b\d{3}-\d{2}-\d{4}\b/g, valid: ssnValid },
  { rule: 'pii.phone', mask: '[PHONE]', regex: /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?|\d{2,4}[ .-])(?:\d{2,4}[ .-]){0,2}\d{3,10}(?![\w])/g, valid: phoneValid },
  { rule: 'pii.ipv4', mask: '[IP]', regex: /\b(?:\d{1,3}\.){3}\d{1,3}\b/g, valid: (v) => isIPv4(v) },
  { rule: 'pii.ipv6', mask: '[IP]', regex: /(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])/g, valid: (v) => v.length >= 3 && isIPv6(v) },
];

/**
 * Finds PII (see module comment for the rules). Overlaps are resolved by the caller.
 *
 * @example
 * detectPii('Mail me at ana@example.org')[0]?.rule; // 'pii.email'
 */
export function detectPii(text: string): SafetyFinding[] {
  const found: SafetyFinding[] = [];
  for (const d of DETECTORS) {
    for (const m of text.matchAll(d.regex)) {
      if (d.valid && !d.valid(m[0])) continue;
      const start = m.index;
      found.push({ type: 'pii', rule: d.rule, start, end: start + m[0].length, redacted: d.mask });
    }
  }
  return [...found, ...detectCards(text)];
}

/** A run of digit groups joined by single spaces or dashes (deterministic: one way to match, linear). */
const DIGIT_RUN = /\d(?:[ -]?\d)*/g;
const WORD_CHAR = /\w/;

/**
 * Card numbers: every span of whole digit groups inside a run, 13–19 digits, issuer prefix 2–6 and Luhn-valid.
 * A single regex candidate (`\d(?:[ -]?\d){12,18}`) took the longest run it could and was dropped when that failed
 * the checksum, so a card followed by its expiry month or preceded by a short number ("4111 1111 1111 1111 12/27")
 * was not reported at all. Overlapping valid spans are merged, so no digit of either is left in clear.
 */
function detectCards(text: string): SafetyFinding[] {
  const found: SafetyFinding[] = [];
  for (const m of text.matchAll(DIGIT_RUN)) {
    if (m[0].length < 13) continue;
    const before = m.index > 0 ? text[m.index - 1] ?? '' : '';
    const after = text[m.index + m[0].length] ?? '';
    const spans = cardSpans(m[0], !WORD_CHAR.test(before), !WORD_CHAR.test(after)).sort((a, b) => a.start - b.start);
    let last: SafetyFinding | undefined;
    for (const span of spans) {
      const start = m.index + span.start;
      const end = m.index + span.end;
      if (last !== undefined && start < last.end) last.end = Math.max(last.end, end);
      else found.push((last = { type: 'pii', rule: 'pii.card', start, end, redacted: '[CARD]' }));
    }
  }
  return found;
}

/** Valid card spans of one digit run; `openStart`/`openEnd`: the run is not glued to a word. */
function cardSpans(run: string, openStart: boolean, openEnd: boolean): { start: number; end: number }[] {
  // Digits and where each group of the run starts and ends (a group ends before a separator or at the run's end).
  const digits: number[] = [];
  const at: number[] = [];
  const groupStart: boolean[] = [];
  for (let i = 0; i < run.length; i++) {
    const c = run.charCodeAt(i);
    if (c < 48 || c > 57) continue;
    groupStart.push(i === 0 ? openStart : run.charCodeAt(i - 1) < 48);
    digits.push(c - 48);
    at.push(i);
  }
  const spans: { start: number; end: number }[] = [];
  for (let last = 0; last < digits.length; last++) {
    const atEnd = last === digits.length - 1;
    if (atEnd ? !openEnd : (at[last + 1] ?? 0) === (at[last] ?? 0) + 1) continue; // not the end of a group
    let sum = 0;
    let best = -1;
    for (let first = last, k = 0; first >= 0 && k < 19; first--, k++) {
      let d = digits[first] ?? 0;
      if (k % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
      if (k >= 12 && groupStart[first] && (digits[first] ?? 0) >= 2 && (digits[first] ?? 0) <= 6 && sum % 10 === 0) best = first;
    }
    if (best !== -1) spans.push({ start: at[best] ?? 0, end: (at[last] ?? 0) + 1 });
  }
  return spans;
}
