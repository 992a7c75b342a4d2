// EXPERIMENT (not shipped; docs/content-safety.md "What was tried"): training of the injection scorer with a dense head over pooled word vectors (src/safety/dense-head.ts):
// per sentence, logit = bias + (hashed n-gram dot) / sqrt(count + smoothing) + head(pooled vectors).
// Both parts are fitted jointly by the same class-weighted SGD as the plain linear model. The pooled
// features come from the compiled scanner code (PoolingSink), so training and inference pool alike.
import { createFoldBuffer, sentenceFeatures, splitSentences } from '../dist/safety/features.js';
import { PoolingSink, decodeWordVectors, pooledLength } from '../dist/safety/word-vectors.js';
import { serializeWordVectors } from './safety-word-vectors.mjs';

const tables = new Map();

/** The decoded word vectors and pooling of `config.dense` (cached per vocabulary size). */
export function denseContext(dense) {
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
 * Per sentence of `text`: its hashed features `x` and pooled word vectors `e`. With `whole`, one
 * entry for the whole text (how a training example is presented, as textFeatures does).
 */
export function denseRows(ctx, text, whole = false) {
  const rows = [];
  let x = [];
  const sink = { add: (b) => x.push(b), word: (h) => ctx.pool.word(h) };
  ctx.pool.reset();
  for (const s of splitSentences(text)) {
    if (!whole) { x = []; ctx.pool.reset(); }
    sentenceFeatures(text, s.start, s.end, sink, ctx.fold);
    if (!whole) rows.push({ x, e: ctx.pool.pooled(new Float64Array(ctx.inputs)) });
  }
  if (whole) rows.push({ x, e: ctx.pool.pooled(new Float64Array(ctx.inputs)) });
  return rows;
}

/** Per-dimension mean and 1/std of the examples' pooled features (the head's input standardisation). */
function standardisation(examples, inputs) {
  const center = new Float64Array(inputs);
  const sq = new Float64Array(inputs);
  for (const { e } of examples) for (let k = 0; k < inputs; k++) { center[k] += e[k]; sq[k] += e[k] * e[k]; }
  const n = examples.length;
  const invScale = new Float64Array(inputs);
  for (let k = 0; k < inputs; k++) {
    center[k] /= n;
    invScale[k] = 1 / Math.sqrt(Math.max(sq[k] / n - center[k] * center[k], 1e-8));
  }
  return { center: Float32Array.from(center), invScale: Float32Array.from(invScale) };
}

/** Forward pass of the head on a standardised input; fills `h` (hidden activations) when hidden > 0. */
function headForward(head, z, h) {
  const { inputs, hidden } = head;
  if (hidden === 0) { let s = 0; for (let k = 0; k < inputs; k++) s += head.u[k] * z[k]; return s; }
  let s = 0;
  for (let j = 0; j < hidden; j++) {
    let a = head.b[j];
    const base = j * inputs;
    for (let k = 0; k < inputs; k++) a += head.W[base + k] * z[k];
    h[j] = Math.tanh(a);
    s += head.v[j] * h[j];
  }
  return s;
}

function headBackward(head, z, h, step, l2) {
  const { inputs, hidden } = head;
  if (hidden === 0) { for (let k = 0; k < inputs; k++) head.u[k] += step * z[k] - l2 * head.u[k]; return; }
  for (let j = 0; j < hidden; j++) {
    const da = step * head.v[j] * (1 - h[j] * h[j]);
    head.v[j] += step * h[j] - l2 * head.v[j];
    head.b[j] += da;
    const base = j * inputs;
    for (let k = 0; k < inputs; k++) head.W[base + k] += da * z[k] - l2 * head.W[base + k];
  }
}

const standardise = (e, std) => { const z = new Float32Array(e.length); for (let k = 0; k < e.length; k++) z[k] = (e[k] - std.center[k]) * std.invScale[k]; return z; };

/** Joint SGD of the n-gram weights and the dense head (deterministic given `r`). */
export function trainDense(examples, r, config, buckets) {
  const { epochs, lr, l2, smoothing } = config;
  const dense = config.dense;
  const inputs = examples[0].e.length;
  const std = standardisation(examples, inputs);
  const z = examples.map((ex) => standardise(ex.e, std));
  const w = new Float64Array(buckets);
  const head = { inputs, hidden: dense.hidden, std };
  if (dense.hidden === 0) head.u = new Float64Array(inputs);
  else {
    const a = 1 / Math.sqrt(inputs);
    head.W = Float64Array.from({ length: dense.hidden * inputs }, () => (r() * 2 - 1) * a);
    head.b = new Float64Array(dense.hidden);
    head.v = Float64Array.from({ length: dense.hidden }, () => (r() * 2 - 1) * 0.1);
  }
  const h = new Float64Array(dense.hidden);
  let bias = 0;
  const pos = examples.filter((e) => e.y === 1).length;
  const classWeight = { 1: examples.length / (2 * pos), 0: examples.length / (2 * (examples.length - pos)) };
  const useNgrams = dense.ngram !== false; // false: the dense head alone (experiment)
  const order = examples.map((_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
    const decay = 1 / (1 + epoch * 0.5);
    for (const idx of order) {
      const { x, y } = examples[idx];
      const norm = 1 / Math.sqrt(x.length + smoothing);
      let dot = 0;
      for (const f of x) dot += w[f];
      const p = 1 / (1 + Math.exp(-(bias + dot * norm + headForward(head, z[idx], h))));
      const g = (y - p) * classWeight[y];
      if (useNgrams) { const gw = g * lr * decay; for (const f of x) w[f] += gw * norm - l2 * w[f]; }
      headBackward(head, z[idx], h, g * dense.lr * decay, dense.l2);
      bias += g * lr * decay * 0.1;
    }
  }
  return { w, bias, head };
}

/** The head's logit offset for raw pooled features `e` (same arithmetic as dense-head.ts, in float64). */
export function headLogit(head, e) {
  const z = standardise(e, head.std);
  return headForward(head, z, new Float64Array(head.hidden));
}

/** Mean of the sentence mean vectors of `texts` (the centre that similarities are measured around). */
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
