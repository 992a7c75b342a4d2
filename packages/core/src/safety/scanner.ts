import { TollgateError } from '../errors.js';
import { runDetector } from './external.js';
import type { ExternalDetector } from './external.js';
import { createLinearScorer } from './linear-model.js';
import type { LinearScorer, SerializedLinearModel } from './linear-model.js';
import { INJECTION_MODEL } from './model/injection-model.js';
import { TOXICITY_MODEL } from './model/toxicity-model.js';
import { INJECTION_PATTERNS, TOXICITY_PATTERNS, matchPatterns } from './patterns.js';
import { detectPii } from './pii.js';
import { applyRedactions, detectSecrets, dropOverlaps } from './secrets.js';
import { resolveSafetyThresholds } from './thresholds.js';
import type { SafetyTemplate, SafetyThresholds } from './thresholds.js';
import type { SafetyDirection, SafetyFinding, SafetyScanResult, SafetyVerdict } from './types.js';

/** What a secret or PII finding does to the verdict. */
export type FindingAction = 'allow' | 'review' | 'block';

/** Largest text a scanner accepts by default (characters). */
export const DEFAULT_SAFETY_MAX_CHARS = 1_000_000;

/** Options of {@link createSafetyScanner}. */
export interface SafetyScannerOptions {
  /** Template whose thresholds apply (seed: STRICT / STANDARD on, DEV off). Default `STANDARD`. */
  template?: SafetyTemplate;
  /** Per-policy overrides on top of the template. */
  thresholds?: Partial<SafetyThresholds>;
  /** Verdict contribution of a secret finding. Default `'review'` (the text is also redacted). */
  onSecret?: FindingAction;
  /** Verdict contribution of a PII finding. Default `'allow'` (reported and masked in `redactedText`). */
  onPii?: FindingAction;
  /** External detectors, used by `scanAsync` only. */
  detectors?: ExternalDetector[];
  /** Largest accepted text; longer texts throw `PAYLOAD_TOO_LARGE`. Default {@link DEFAULT_SAFETY_MAX_CHARS}. */
  maxChars?: number;
  /** Replacement weights (e.g. retrained ones); default: the models shipped in this package. */
  models?: { injection?: SerializedLinearModel; toxicity?: SerializedLinearModel };
}

/** Per-call options of a scan. */
export interface SafetyScanOptions {
  template?: SafetyTemplate;
  thresholds?: Partial<SafetyThresholds>;
}

/** A content-safety scanner: layer-1 patterns and detectors, layer-2 built-in scorers. */
export interface SafetyScanner {
  /** Built-in layers only; synchronous and offline. */
  scan(text: string, direction: SafetyDirection, options?: SafetyScanOptions): SafetyScanResult;
  /** Built-in layers plus the configured external detectors (each with its timeout and failure mode). */
  scanAsync(text: string, direction: SafetyDirection, options?: SafetyScanOptions): Promise<SafetyScanResult>;
}

const DIRECTIONS: ReadonlySet<string> = new Set(['input', 'output', 'tool_output']);
const RANK: Record<SafetyVerdict, number> = { allow: 0, review: 1, block: 2 };
const worst = (a: SafetyVerdict, b: SafetyVerdict): SafetyVerdict => (RANK[b] > RANK[a] ? b : a);
const EXCERPT_CHARS = 80;

/**
 * Creates a scanner. Weights are decoded once here; scans are then pure functions of their input.
 *
 * @example
 * const scanner = createSafetyScanner({ template: 'STRICT' });
 * const result = scanner.scan(toolOutput, 'tool_output');
 * if (result.verdict === 'block') throw new Error('prompt injection in tool output');
 */
export function createSafetyScanner(options: SafetyScannerOptions = {}): SafetyScanner {
  const injection = createLinearScorer(options.models?.injection ?? INJECTION_MODEL);
  const toxicity = createLinearScorer(options.models?.toxicity ?? TOXICITY_MODEL);
  const maxChars = options.maxChars ?? DEFAULT_SAFETY_MAX_CHARS;
  const scan = (text: string, direction: SafetyDirection, opts: SafetyScanOptions = {}): SafetyScanResult => {
    validate(text, direction, maxChars);
    const thresholds = resolveSafetyThresholds(opts.template ?? options.template, { ...options.thresholds, ...opts.thresholds });
    return scanBuiltIn(text, thresholds, { injection, toxicity }, options);
  };
  return {
    scan,
    async scanAsync(text, direction, opts = {}) {
      const result = scan(text, direction, opts);
      if (!options.detectors?.length) return result;
      const thresholds = resolveSafetyThresholds(opts.template ?? options.template, { ...options.thresholds, ...opts.thresholds });
      const outcomes = await Promise.all(options.detectors.map(async (d) => ({ d, outcome: await runDetector(d, text, direction) })));
      for (const { d, outcome } of outcomes) mergeDetection(result, d, outcome, thresholds);
      return result;
    },
  };
}

function validate(text: unknown, direction: unknown, maxChars: number): void {
  if (typeof text !== 'string') throw new TollgateError('VALIDATION_FAILED', 'text must be a string');
  if (typeof direction !== 'string' || !DIRECTIONS.has(direction)) {
    throw new TollgateError('VALIDATION_FAILED', 'direction must be one of input, output, tool_output', { details: { direction } });
  }
  if (text.length > maxChars) throw new TollgateError('PAYLOAD_TOO_LARGE', `text is longer than ${maxChars} characters`, { details: { maxChars } });
}

function scanBuiltIn(text: string, t: SafetyThresholds, scorers: { injection: LinearScorer; toxicity: LinearScorer }, options: SafetyScannerOptions): SafetyScanResult {
  // Phrases and classifiers judge the text as a model reads it: zero-width characters, soft hyphens and full-width
  // letters hid an injection from them (0.95 became 0.002) while an LLM reads it as plain text. Findings point back
  // into the text as given.
  const folded = foldForScoring(text);
  const scored = folded?.text ?? text;
  const back = folded === undefined ? (at: number) => at : (at: number) => folded.offsets[at] ?? text.length;
  const inText = <F extends { start: number; end: number }>(f: F): F => (folded === undefined ? f : { ...f, start: back(f.start), end: back(f.end) });
  const injectionPatterns = mapFindings(matchPatterns(scored, INJECTION_PATTERNS), inText);
  const toxicityPatterns = mapFindings(matchPatterns(scored, TOXICITY_PATTERNS), inText);
  const injectionModel = inText(scorers.injection.score(scored));
  const toxicityModel = inText(scorers.toxicity.score(scored));
  const scores = {
    injection: round(Math.max(injectionModel.score, injectionPatterns.score)),
    toxicity: round(Math.max(toxicityModel.score, toxicityPatterns.score)),
  };
  const secrets = detectSecrets(text);
  const allPii = detectPii(text).filter((p) => !secrets.some((s) => p.start < s.end && s.start < p.end));
  const pii = dropOverlaps(allPii);
  // Mask every PII span, not only the reported ones: a phone number overlapping the start of a card number would
  // otherwise leave the card's last digits in clear (applyRedactions merges overlapping spans).
  const masked = [...secrets, ...allPii];
  // Phrase findings keep the matched text as their excerpt: mask what it overlaps too.
  const phrases = [...injectionPatterns.findings, ...toxicityPatterns.findings].map((f) => ({ ...f, redacted: excerpt(text, masked, f.start, folded === undefined ? f.start + f.redacted.length : f.end) }));
  const findings: SafetyFinding[] = [...phrases, ...secrets, ...pii];
  if (injectionModel.score >= t.injection - t.reviewMargin) findings.push(modelFinding(text, masked, 'injection', 'classifier.injection', injectionModel));
  if (toxicityModel.score >= t.toxicity - t.reviewMargin) findings.push(modelFinding(text, masked, 'toxicity', 'classifier.toxicity', toxicityModel));
  findings.sort((a, b) => a.start - b.start || a.end - b.end);
  const verdict = t.enabled ? decide(scores, t, findings, options) : 'allow';
  return { verdict, scores, findings, redactedText: applyRedactions(text, masked) };
}

function mapFindings<R extends { findings: SafetyFinding[] }>(result: R, inText: (f: SafetyFinding) => SafetyFinding): R {
  return { ...result, findings: result.findings.map(inText) };
}

const INVISIBLE_FORMAT = /\p{Cf}/u;
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The text as scored: each character NFKC-folded (full-width and other compatibility forms to their plain letters)
 * and invisible format characters (zero-width spaces and joiners, soft hyphens, direction marks) removed, with, for
 * each character of the result and its end, the index in `text` it came from. Undefined when nothing changes (ASCII
 * text costs one regular-expression test).
 *
 * @example
 * foldForScoring('ig\u200bnore')?.text // 'ignore'
 */
export function foldForScoring(text: string): { text: string; offsets: Uint32Array } | undefined {
  if (!NON_ASCII.test(text)) return undefined;
  let out = '';
  const offsets: number[] = [];
  for (let i = 0; i < text.length;) {
    const code = text.charCodeAt(i);
    if (code < 0x80) {
      out += text[i];
      offsets.push(i);
      i += 1;
      continue;
    }
    const char = String.fromCodePoint(text.codePointAt(i)!);
    if (!INVISIBLE_FORMAT.test(char)) {
      const plain = char.normalize('NFKC');
      out += plain;
      for (let k = 0; k < plain.length; k += 1) offsets.push(i);
    }
    i += char.length;
  }
  if (out === text) return undefined;
  offsets.push(text.length);
  return { text: out, offsets: Uint32Array.from(offsets) };
}

/**
 * A classifier finding shows an excerpt of the text that scored (up to EXCERPT_CHARS), with every secret and PII
 * finding that touches it masked: findings are stored (decision context, ledger), and a secret must never ride
 * along in an excerpt. A secret cut by the excerpt's edge is replaced by its mask all the same.
 */
function modelFinding(text: string, masked: readonly SafetyFinding[], type: 'injection' | 'toxicity', rule: string, w: { start: number; end: number }): SafetyFinding {
  return { type, rule, start: w.start, end: w.end, redacted: excerpt(text, masked, w.start, Math.min(w.end, w.start + EXCERPT_CHARS)) };
}

/** `text.slice(from, to)` with every masked span that overlaps it replaced by its mask. */
function excerpt(text: string, masked: readonly SafetyFinding[], from: number, to: number): string {
  const inside = masked
    .filter((f) => f.start < to && from < f.end)
    .map((f) => ({ start: Math.max(f.start, from) - from, end: Math.min(f.end, to) - from, redacted: f.redacted }));
  return applyRedactions(text.slice(from, to), inside);
}

function decide(scores: { injection: number; toxicity: number }, t: SafetyThresholds, findings: SafetyFinding[], options: SafetyScannerOptions): SafetyVerdict {
  let verdict: SafetyVerdict = 'allow';
  if (scores.injection >= t.injection || scores.toxicity >= t.toxicity) return 'block';
  if (scores.injection >= t.injection - t.reviewMargin || scores.toxicity >= t.toxicity - t.reviewMargin) verdict = 'review';
  if (findings.some((f) => f.type === 'injection' || f.type === 'jailbreak' || f.type === 'toxicity')) verdict = worst(verdict, 'review');
  if (findings.some((f) => f.type === 'secret')) verdict = worst(verdict, options.onSecret ?? 'review');
  if (findings.some((f) => f.type === 'pii')) verdict = worst(verdict, options.onPii ?? 'allow');
  return verdict;
}

function mergeDetection(result: SafetyScanResult, d: ExternalDetector, outcome: Awaited<ReturnType<typeof runDetector>>, t: SafetyThresholds): void {
  if (!outcome.ok) {
    result.findings.push({ type: 'external', rule: `external.${d.name}.unavailable`, start: 0, end: 0, redacted: outcome.error.slice(0, EXCERPT_CHARS) });
    if ((d.failure ?? 'closed') === 'closed' && t.enabled) result.verdict = 'block';
    return;
  }
  const { injection, toxicity, findings } = outcome.detection;
  if (injection !== undefined) result.scores.injection = round(Math.max(result.scores.injection, injection));
  if (toxicity !== undefined) result.scores.toxicity = round(Math.max(result.scores.toxicity, toxicity));
  if (findings) result.findings.push(...findings);
  if (!t.enabled) return;
  if (result.scores.injection >= t.injection || result.scores.toxicity >= t.toxicity) result.verdict = 'block';
  else if (result.scores.injection >= t.injection - t.reviewMargin || result.scores.toxicity >= t.toxicity - t.reviewMargin) result.verdict = worst(result.verdict, 'review');
}

const round = (v: number): number => Math.round(v * 10_000) / 10_000;
