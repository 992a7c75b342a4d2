/**
 * Off-topic adjustment of the injection scorer's sentence logits.
 *
 * Why: an injected instruction is usually about something else than the document it is hidden in (a
 * request to forward e-mails inside a hotel review, a question about butterflies inside a bank
 * statement), while the imperative sentences of ordinary tool outputs ("Please pay the amount by bank
 * transfer") are about the same thing as the rest. Word overlap cannot see that (an e-mail's request
 * shares few words with its greeting); pretrained word vectors can. Each sentence's mean word vector is
 * compared (cosine, both centred on the typical sentence of the training tool outputs) with the mean
 * vector of the rest of the document, and its logit becomes `logit − beta × (similarity − prior)`.
 * Sentences with few known words are pulled towards `prior`, and a one-sentence text gets `prior`
 * (no change). `beta`, `prior` and `shrink` were chosen by grouped cross-validation on the training
 * split (docs/content-safety.md).
 */
import { createFoldBuffer, sentenceFeatures } from './features.js';
import type { Sentence } from './features.js';
import { PoolingSink, decodeWordVectors } from './word-vectors.js';
import type { SerializedWordVectors, WordVectors } from './word-vectors.js';

/** Serialised off-topic adjustment, as written by the training script. */
export interface SerializedOffTopic {
  format: 'tollgate-off-topic-v1';
  /** Logit change per unit of similarity below `prior`. */
  beta: number;
  /** Similarity at which a sentence's logit is unchanged (also used when there is nothing to compare). */
  prior: number;
  /** Pseudo-count of words at similarity `prior` mixed into each sentence's similarity. */
  shrink: number;
  /** Centre of the training tool outputs' sentence vectors (one value per dimension). */
  centre: number[];
  /** The word vectors (the most frequent English words, without the very most frequent ones). */
  wordVectors: SerializedWordVectors;
}

/** Hashed-feature weights, and where to write each sentence's dot product and feature count. */
export interface SentenceDots {
  weights: ArrayLike<number>;
  dots: Float64Array;
  counts: Float64Array;
}

/** Decoded adjustment: per-sentence similarities of a text to the rest of it. */
export interface OffTopicAdjuster {
  readonly beta: number;
  readonly prior: number;
  /**
   * Reads every sentence once: the document's total word vector, and (with `ngrams`) each sentence's
   * hashed-feature dot product and count, so the scorer reads the text once for both. Call before
   * {@link OffTopicAdjuster.similarity} for the sentences of the same text.
   */
  prepare(text: string, sentences: readonly Sentence[], ngrams?: SentenceDots): void;
  /** Similarity of one sentence of the prepared text to the rest of it. */
  similarity(text: string, sentence: Sentence): number;
  /** Similarity of every sentence of `sentences` (from splitSentences(text)) to the rest of the text. */
  similarities(text: string, sentences: readonly Sentence[]): Float64Array;
}

/**
 * Decodes the adjustment (once per scanner).
 *
 * @example
 * const offTopic = createOffTopicAdjuster(INJECTION_MODEL.offTopic!);
 * const sims = offTopic.similarities(text, splitSentences(text));
 */
export function createOffTopicAdjuster(serialized: SerializedOffTopic): OffTopicAdjuster {
  if (serialized.format !== 'tollgate-off-topic-v1') throw new Error(`unsupported off-topic adjustment: ${serialized.format}`);
  const vectors = decodeWordVectors(serialized.wordVectors);
  if (serialized.centre.length !== vectors.dimensions) throw new Error('off-topic centre does not match the word vectors');
  const centre = Float64Array.from(serialized.centre);
  const fold = createFoldBuffer();
  const options = { pooling: 'mean' as const, skipTop: 0 };
  const rest = { total: new Float64Array(vectors.dimensions), all: 0 };
  const pool = new PoolingSink(vectors, null, options);
  let weighted: PoolingSink | null = null;
  let weightsOf: ArrayLike<number> | null = null;
  const adjuster: OffTopicAdjuster = {
    beta: serialized.beta,
    prior: serialized.prior,
    prepare(text, sentences, ngrams) {
      if (ngrams && ngrams.weights !== weightsOf) {
        weightsOf = ngrams.weights;
        weighted = new PoolingSink(vectors, ngrams.weights, options);
      }
      const sink = ngrams && weighted ? weighted : pool;
      rest.total.fill(0);
      rest.all = 0;
      for (let i = 0; i < sentences.length; i++) {
        const s = sentences[i] as Sentence;
        sink.reset();
        const count = sentenceFeatures(text, s.start, s.end, sink, fold);
        if (ngrams) {
          ngrams.dots[i] = sink.dot;
          ngrams.counts[i] = count;
        }
        sink.addSumTo(rest.total);
        rest.all += sink.words;
      }
    },
    similarity(text, sentence) {
      pool.reset();
      sentenceFeatures(text, sentence.start, sentence.end, pool, fold);
      return similarity(pool, rest, vectors, centre, serialized);
    },
    similarities(text, sentences) {
      adjuster.prepare(text, sentences);
      return Float64Array.from(sentences, (s) => adjuster.similarity(text, s));
    },
  };
  return adjuster;
}

/** Cosine of (sentence mean − centre) and (rest-of-text mean − centre), shrunk towards `prior`. */
function similarity(pool: PoolingSink, rest: { total: Float64Array; all: number }, vectors: WordVectors, centre: Float64Array, o: SerializedOffTopic): number {
  const n = pool.words;
  const others = rest.all - n;
  if (n === 0 || others === 0) return o.prior;
  const sum = pool.sums;
  let dot = 0;
  let a = 0;
  let b = 0;
  for (let k = 0; k < vectors.dimensions; k++) {
    const own = ((sum[k] as number) * vectors.scale) / n - (centre[k] as number);
    const away = (((rest.total[k] as number) - (sum[k] as number)) * vectors.scale) / others - (centre[k] as number);
    dot += own * away;
    a += own * own;
    b += away * away;
  }
  const cos = a > 0 && b > 0 ? dot / Math.sqrt(a * b) : o.prior;
  return (cos * n + o.prior * o.shrink) / (n + o.shrink);
}
