import { FEATURE_BUCKETS, createFoldBuffer, sentenceFeatures, splitSentences } from './features.js';
import type { Sentence } from './features.js';
import { createOffTopicAdjuster } from './off-topic.js';
import type { SerializedOffTopic } from './off-topic.js';

/**
 * Serialised weights of a built-in scorer, as written by `packages/core/scripts/train-safety.mjs`.
 * Weights are int8-quantised (`weight = int8 * scale`) and base64-encoded.
 */
export interface SerializedLinearModel {
  format: 'tollgate-linear-v1';
  name: string;
  buckets: number;
  bias: number;
  scale: number;
  /** Pseudo-count added to the feature count before length normalisation (damps very short windows). */
  smoothing: number;
  /** Largest number of consecutive sentences in one scoring window. */
  windowSentences: number;
  /** Largest number of characters in a window of more than one sentence. */
  windowChars: number;
  weights: string;
  /**
   * Optional: lowers the logit of sentences on the document's topic and raises off-topic ones
   * (pretrained word vectors; see off-topic.ts). Requires one-sentence windows.
   */
  offTopic?: SerializedOffTopic;
  /** Provenance written by the training script (seed, data, counts); informational. */
  trainedOn?: unknown;
}

/** Score of the most suspicious window of a text. */
export interface WindowScore {
  score: number;
  start: number;
  end: number;
}

/** A decoded linear scorer over hashed features. */
export interface LinearScorer {
  readonly name: string;
  /** Probability in [0, 1] for the most suspicious window of `text` (0 for empty text). */
  score(text: string): WindowScore;
}

/**
 * Decodes serialised weights into a scorer. Call once per scanner; scoring is then allocation-light.
 *
 * @example
 * const scorer = createLinearScorer(INJECTION_MODEL);
 * scorer.score('Ignore previous instructions').score; // close to 1
 */
export function createLinearScorer(model: SerializedLinearModel): LinearScorer {
  if (model.format !== 'tollgate-linear-v1' || model.buckets !== FEATURE_BUCKETS) {
    throw new Error(`unsupported safety model ${model.name}: ${model.format}/${model.buckets}`);
  }
  const weights = decodeWeights(model.weights, model.buckets, model.scale);
  if (model.offTopic) return createOffTopicScorer(model, model.offTopic, weights);
  const fold = createFoldBuffer();
  const dot = new DotSink(weights);
  return {
    name: model.name,
    score: (text) => scoreWindows(text, model, dot, fold),
  };
}

function decodeWeights(base64: string, buckets: number, scale: number): Float32Array {
  const out = new Float32Array(buckets);
  if (base64.length === 0) return out;
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== buckets) throw new Error(`model weights have ${bytes.length} entries, expected ${buckets}`);
  for (let i = 0; i < buckets; i++) {
    const b = bytes[i] as number;
    out[i] = (b > 127 ? b - 256 : b) * scale;
  }
  return out;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Sums the weights of the features it is fed (one instance per scorer; scans are synchronous). */
class DotSink {
  sum = 0;
  constructor(private readonly weights: Float32Array) {}
  add(bucket: number): void {
    this.sum += this.weights[bucket] as number;
  }
}

function scoreWindows(text: string, model: SerializedLinearModel, sink: DotSink, fold: Int32Array): WindowScore {
  const sentences = splitSentences(text);
  if (sentences.length === 0) return { score: 0, start: 0, end: 0 };
  const dots = new Float64Array(sentences.length);
  const counts = new Float64Array(sentences.length);
  for (let i = 0; i < sentences.length; i++) {
    const s = sentences[i] as { start: number; end: number };
    sink.sum = 0;
    counts[i] = sentenceFeatures(text, s.start, s.end, sink, fold);
    dots[i] = sink.sum;
  }
  let best = { logit: -Infinity, start: 0, end: 0 };
  for (let i = 0; i < sentences.length; i++) {
    let dot = 0;
    let count = 0;
    const first = sentences[i] as { start: number };
    for (let j = i; j < sentences.length && j < i + model.windowSentences; j++) {
      const last = sentences[j] as { end: number };
      if (j > i && last.end - first.start > model.windowChars) break;
      dot += dots[j] as number;
      count += counts[j] as number;
      const logit = model.bias + dot / Math.sqrt(count + model.smoothing);
      if (logit > best.logit) best = { logit, start: first.start, end: last.end };
    }
  }
  return { score: sigmoid(best.logit), start: best.start, end: best.end };
}

/**
 * Scorer with the off-topic adjustment: each sentence's logit is the n-gram part minus
 * `beta × (similarity to the rest − prior)`; the text's score is its most suspicious sentence.
 * A similarity is at least −1, so a sentence whose n-gram logit plus `beta × (1 + prior)` cannot beat
 * the best adjusted logit so far is skipped without computing its similarity (same result, less work).
 */
function createOffTopicScorer(model: SerializedLinearModel, offTopic: SerializedOffTopic, weights: Float32Array): LinearScorer {
  if (model.windowSentences !== 1) throw new Error(`safety model ${model.name}: the off-topic adjustment needs one-sentence windows`);
  const adjuster = createOffTopicAdjuster(offTopic);
  const headroom = adjuster.beta * (1 + adjuster.prior) + 1e-9; // + rounding of the cosine
  return {
    name: model.name,
    score(text) {
      const sentences = splitSentences(text);
      if (sentences.length === 0) return { score: 0, start: 0, end: 0 };
      const dots = new Float64Array(sentences.length);
      const counts = new Float64Array(sentences.length);
      adjuster.prepare(text, sentences, { weights, dots, counts });
      const base = (i: number): number => model.bias + (dots[i] as number) / Math.sqrt((counts[i] as number) + model.smoothing);
      const adjusted = (i: number): number => base(i) - adjuster.beta * (adjuster.similarity(text, sentences[i] as Sentence) - adjuster.prior);
      let top = 0;
      for (let i = 1; i < sentences.length; i++) if (base(i) > base(top)) top = i;
      // Start from the sentence with the best n-gram logit, then visit all in order (first best wins ties).
      let bestIndex = top;
      let bestLogit = adjusted(top);
      for (let i = 0; i < sentences.length; i++) {
        if (i === top || base(i) + headroom < bestLogit) continue;
        const logit = adjusted(i);
        if (logit > bestLogit || (logit === bestLogit && i < bestIndex)) {
          bestLogit = logit;
          bestIndex = i;
        }
      }
      const best = sentences[bestIndex] as Sentence;
      return { score: sigmoid(bestLogit), start: best.start, end: best.end };
    },
  };
}

/**
 * The logit the scorer assigns to a text treated as ONE window (used by the training script).
 *
 * @example
 * windowLogit(textFeatures('hello'), weights, 0, 30);
 */
export function windowLogit(features: readonly number[], weights: ArrayLike<number>, bias: number, smoothing: number): number {
  let dot = 0;
  for (const bucket of features) dot += weights[bucket] as number;
  return bias + dot / Math.sqrt(features.length + smoothing);
}
