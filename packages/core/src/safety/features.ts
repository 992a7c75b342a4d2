/**
 * Text → hashed features for the built-in linear scorers.
 *
 * Features are computed per sentence so that the logit of any window of consecutive sentences is
 * a sum of per-sentence dot products (the model is linear): scoring every window of a document
 * costs one pass over its characters. The training script uses exactly these functions, so
 * training and inference cannot drift apart.
 */

/** Number of hash buckets (2^18). The shipped weights have exactly this length. */
export const FEATURE_BUCKETS = 1 << 18;
const BUCKET_MASK = FEATURE_BUCKETS - 1;

/** Longest sentence kept whole; longer runs of text are cut into pieces of this size. */
export const MAX_SENTENCE_CHARS = 400;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const SALT_WORD = 0x9e3779b1;
const SALT_BIGRAM = 0x85ebca6b;

/** A sentence: its span in the original text. */
export interface Sentence {
  start: number;
  end: number;
}

/**
 * Splits text into sentences: at line breaks and after `.`, `!`, `?` followed by white space.
 * Spans longer than {@link MAX_SENTENCE_CHARS} are cut so that no single span dominates.
 *
 * @example
 * splitSentences('Hi. Call me.\nBye').length // 3
 */
export function splitSentences(text: string): Sentence[] {
  const out: Sentence[] = [];
  let start = 0;
  const push = (end: number): void => {
    let s = start;
    while (s < end && isSpace(text.charCodeAt(s))) s++;
    let e = end;
    while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
    for (let piece = s; piece < e; piece += MAX_SENTENCE_CHARS) {
      out.push({ start: piece, end: Math.min(e, piece + MAX_SENTENCE_CHARS) });
    }
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      push(i);
      start = i + 1;
    } else if (c === 92 && isEscapedBreak(text.charCodeAt(i + 1))) {
      // JSON-serialised text (tool outputs as the enforcer sees them): "\n" is a line break too.
      push(i);
      start = i + 2;
      i++;
    } else if ((c === 46 || c === 33 || c === 63) && i + 1 < text.length && isSpace(text.charCodeAt(i + 1))) {
      push(i + 1);
      start = i + 1;
    }
  }
  push(text.length);
  return out;
}

/** `n` or `r` after a backslash: an escaped line break in JSON text. */
function isEscapedBreak(c: number): boolean {
  return c === 110 || c === 114;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11 || c === 160;
}

/** Lower-cases ASCII and folds everything that is not a letter or digit into one space. */
/** Letters that follow a backslash in JSON escapes. */
function isEscapeLetter(c: number): boolean {
  return c === 110 || c === 114 || c === 116 || c === 34 || c === 92 || c === 47 || c === 98 || c === 102;
}

function foldChar(c: number): number {
  if (c >= 65 && c <= 90) return c + 32;
  if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) return c;
  if (c > 127) return c; // keep non-ASCII letters as they are
  return 32;
}

/** Receives feature buckets; the scorer sums weights, the training script collects them. */
export interface FeatureSink {
  add(bucket: number): void;
  /** Optional: receives the FNV-1a hash of each word of the folded text, in order (see {@link hashWord}). */
  word?(hash: number): void;
}

/** Scratch buffer large enough for one folded sentence ({@link MAX_SENTENCE_CHARS} + padding). */
export function createFoldBuffer(): Int32Array {
  return new Int32Array(MAX_SENTENCE_CHARS + 4);
}

/**
 * Feeds the hashed feature buckets of one sentence to `sink`: word unigrams and word bigrams of the
 * folded text (lower-cased, punctuation folded to spaces). Returns the number of features produced.
 * Character n-grams were tried and dropped: in cross-validation on the training split they
 * memorised the training carriers and lowered recall at a fixed false-positive rate (see
 * docs/content-safety.md).
 * `fold` is a scratch buffer from {@link createFoldBuffer} (reused to keep scans allocation-free).
 *
 * @example
 * const buckets: number[] = [];
 * sentenceFeatures('Ignore this', 0, 11, { add: (b) => buckets.push(b) }, createFoldBuffer());
 */
export function sentenceFeatures(text: string, start: number, end: number, sink: FeatureSink, fold: Int32Array): number {
  let n = 0;
  fold[n++] = 32;
  const stop = Math.min(end, start + MAX_SENTENCE_CHARS);
  for (let i = start; i < stop; i++) {
    let c = foldChar(text.charCodeAt(i));
    // A JSON escape (\t, \", \\ …) is a separator, not a letter glued to the next word.
    if (text.charCodeAt(i) === 92 && i + 1 < stop && isEscapeLetter(text.charCodeAt(i + 1))) {
      c = 32;
      i++;
    }
    if (c === 32 && fold[n - 1] === 32) continue;
    fold[n++] = c;
  }
  if (fold[n - 1] !== 32) fold[n++] = 32;
  return addWordGrams(fold, n, sink);
}

function addWordGrams(folded: Int32Array, n: number, sink: FeatureSink): number {
  let count = 0;
  let previous = -1;
  let h = FNV_OFFSET;
  let inWord = false;
  for (let i = 0; i < n; i++) {
    const c = folded[i] as number;
    if (c !== 32) {
      h = Math.imul(h ^ c, FNV_PRIME);
      inWord = true;
      continue;
    }
    if (!inWord) continue;
    const word = h >>> 0;
    sink.word?.(word);
    sink.add(((word ^ SALT_WORD) >>> 0) & BUCKET_MASK);
    count++;
    if (previous !== -1) {
      sink.add(((Math.imul(previous ^ SALT_BIGRAM, FNV_PRIME) ^ word) >>> 0) & BUCKET_MASK);
      count++;
    }
    previous = word;
    h = FNV_OFFSET;
    inWord = false;
  }
  return count;
}

/**
 * The hash {@link sentenceFeatures} gives a word (FNV-1a over its UTF-16 code units), for a word that
 * folding leaves unchanged (lower-case ASCII letters and digits, non-ASCII letters). Word-vector
 * tables are keyed by it, so a scan looks words up without building strings.
 *
 * @example
 * hashWord('password') // a 32-bit unsigned integer
 */
export function hashWord(word: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

/**
 * Feature buckets for a whole text (all its sentences). Used by the training script.
 *
 * @example
 * textFeatures('Send the money now.').length > 0 // true
 */
export function textFeatures(text: string): number[] {
  const buckets: number[] = [];
  const sink = { add: (b: number): void => void buckets.push(b) };
  const fold = createFoldBuffer();
  for (const s of splitSentences(text)) sentenceFeatures(text, s.start, s.end, sink, fold);
  return buckets;
}
