// EXPERIMENTS of the fourth round (not shipped; docs/content-safety.md "What was tried").
// (1) The injection scorer with a dense head over pooled word vectors:
// per sentence, logit = bias + (hashed n-gram dot) / sqrt(count + smoothing) + head(pooled vectors).
// Both parts are fitted jointly by the same class-weighted SGD as the plain linear model. The pooled
// features come from the compiled scanner code (PoolingSink), so training and inference pool alike.
import { sentenceFeatures, splitSentences } from '../dist/safety/features.js';
import { wordVectorContext } from './safety-word-vectors.mjs';

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

/** The head's logit offset for raw pooled features `e`. */
export function headLogit(head, e) {
  const z = standardise(e, head.std);
  return headForward(head, z, new Float64Array(head.hidden));
}

/**
 * (2) / (3) Cosine of each sentence's centred mean vector to the centred mean
 * of its two neighbours (the sentences before and after), shrunk towards `prior` like the document one.
 */
export function neighbourSimilarities(model, text, o, mode = 'neighbours') {
  const ctx = wordVectorContext({ vocab: o.vocab, skipTop: o.skipTop, pooling: 'mean', smoothing: 0 });
  const d = ctx.vectors.dimensions;
  const sink = { add: () => {}, word: (h) => ctx.pool.word(h) };
  const rows = splitSentences(text).map((s) => {
    ctx.pool.reset();
    sentenceFeatures(text, s.start, s.end, sink, ctx.fold);
    return { sum: Float64Array.from(ctx.pool.sums), n: ctx.pool.words };
  });
  const total = new Float64Array(d);
  let all = 0;
  for (const r of rows) { for (let k = 0; k < d; k++) total[k] += r.sum[k]; all += r.n; }
  return rows.map((row, i) => {
    // mode 'far' (3): the rest of the document WITHOUT the two neighbours (wrapper lines, the rest of a long attack).
    const near = [rows[i - 1], rows[i + 1]].filter(Boolean);
    const nb = mode === 'far' ? [{ sum: total.map((t, k) => t - row.sum[k] - near.reduce((acc, r) => acc + r.sum[k], 0)), n: all - row.n - near.reduce((a, r) => a + r.n, 0) }] : near;
    const m = nb.reduce((a, r) => a + r.n, 0);
    if (!row.n || !m) return o.prior;
    let dot = 0, a = 0, b = 0;
    for (let k = 0; k < d; k++) {
      const own = (row.sum[k] * ctx.vectors.scale) / row.n - model.centre[k];
      const away = (nb.reduce((acc, r) => acc + r.sum[k], 0) * ctx.vectors.scale) / m - model.centre[k];
      dot += own * away; a += own * own; b += away * away;
    }
    const cos = a && b ? dot / Math.sqrt(a * b) : o.prior;
    return (cos * row.n + o.prior * o.shrink) / (row.n + o.shrink);
  });
}
