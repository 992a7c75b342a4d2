// The training PROCEDURE of Tollgate's built-in injection scorer, as functions, so that the same
// procedure runs (a) once on the TRAIN split to produce the shipped weights (train-safety.mjs) and
// (b) once per outer fold in the grouped cross-validation of bench/safety-eval.mjs (safety-protocol.mjs).
// Every model-selection step (bias/threshold calibration) happens inside the data handed to
// `trainProcedure`, by grouped cross-validation (folds by attack group and carrier group, never rows).
import { FEATURE_BUCKETS, createFoldBuffer, sentenceFeatures, splitSentences, textFeatures } from '../dist/safety/features.js';
import { createOffTopicAdjuster } from '../dist/safety/off-topic.js';
import { denseRows, headLogit, neighbourSimilarities, trainDense } from './safety-dense-train.mjs';
import { sentenceCentre, serializeWordVectors, wordVectorContext } from './safety-word-vectors.mjs';
import { EXTRA_TRAIN_WRAPPERS } from './safety-corpus/attack-goals.mjs';
import { TRAIN_WRAPPERS, embed } from './safety-data.mjs';

/** Hyper-parameters, fixed by grouped CV on the TRAIN split (see docs/content-safety.md). */
export const DEFAULT_CONFIG = {
  smoothing: 30, windowSentences: 1, windowChars: 600,
  epochs: 20, lr: 0.5, l2: 1e-6,
  cvFolds: 4, cvRepeats: 3, targetFpr: 0.01, threshold: 0.35,
  // Off-topic adjustment (src/safety/off-topic.ts): word vectors of the 10,000 most frequent words minus
  // the 300 most frequent; logit − 4 × (similarity to the rest of the document − 0.25). `null` = none.
  offTopic: { vocab: 10000, skipTop: 300, prior: 0.25, shrink: 2, beta: 4 },
};

export const WRAPPERS = { ...TRAIN_WRAPPERS, ...EXTRA_TRAIN_WRAPPERS };

/** Every window the scorer will look at (same rule as linear-model.ts), as feature arrays. */
export function windowFeatures(text, config = DEFAULT_CONFIG) {
  const sentences = splitSentences(text);
  const fold = createFoldBuffer();
  const per = sentences.map((s) => { const b = []; sentenceFeatures(text, s.start, s.end, { add: (x) => b.push(x) }, fold); return b; });
  const out = [];
  for (let i = 0; i < sentences.length; i++) {
    let acc = [];
    for (let j = i; j < sentences.length && j < i + config.windowSentences; j++) {
      if (j > i && sentences[j].end - sentences[i].start > config.windowChars) break;
      acc = acc.concat(per[j]);
      out.push(acc);
    }
  }
  return out;
}

/** One training example for a whole text: hashed features, and pooled word vectors with a dense head. */
const exampleOf = (text, config) => (config.dense ? denseRows(wordVectorContext(config.dense), text, true)[0] : { x: textFeatures(text) });
/** The scoring windows of a text as examples (one sentence each with a dense head). */
const windowsOf = (text, config) => (config.dense ? denseRows(wordVectorContext(config.dense), text) : windowFeatures(text, config).map((x) => ({ x })));

const offTopicContext = (o) => wordVectorContext({ vocab: o.vocab, skipTop: o.skipTop, pooling: 'mean', smoothing: 0 });
/** With `config.offTopic`: the centre of the training carriers' sentence vectors, stored on the model. */
export function fitCentre(model, carriers, config) {
  if (config.offTopic) model.centre = sentenceCentre(offTopicContext(config.offTopic), carriers.map((c) => c.text));
  return model;
}

/** The serialised off-topic adjustment of a model (format read by src/safety/off-topic.ts). */
export function serializeOffTopic(model, config) {
  const { beta, prior, shrink, vocab, skipTop } = config.offTopic;
  const round = (v) => Math.round(v * 1e6) / 1e6;
  return { format: 'tollgate-off-topic-v1', beta, prior, shrink, centre: Array.from(model.centre, round), wordVectors: serializeWordVectors(vocab, skipTop) };
}

/** Class-weighted logistic regression by SGD over hashed features (deterministic given `r`). */
export function trainLogistic(examples, r, config = DEFAULT_CONFIG) {
  if (config.dense) return trainDense(examples, r, config, FEATURE_BUCKETS);
  const { epochs, lr, l2, smoothing } = config;
  const w = new Float64Array(FEATURE_BUCKETS);
  let bias = 0;
  const pos = examples.filter((e) => e.y === 1).length;
  const neg = examples.length - pos;
  const classWeight = { 1: examples.length / (2 * pos), 0: examples.length / (2 * neg) };
  const order = examples.map((_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
    const rate = lr / (1 + epoch * 0.5);
    for (const idx of order) {
      const { x, y, offset = 0 } = examples[idx];
      const norm = 1 / Math.sqrt(x.length + smoothing);
      let dot = 0;
      for (const f of x) dot += w[f];
      const p = 1 / (1 + Math.exp(-(bias + dot * norm + offset)));
      const g = (y - p) * classWeight[y] * rate;
      for (const f of x) w[f] += g * norm - l2 * w[f];
      bias += g * 0.1;
    }
  }
  return { w, bias };
}

const logitOf = (model, x, config) => { let d = 0; for (const f of x) d += model.w[f]; return model.bias + d / Math.sqrt(x.length + config.smoothing); };
/** Document logit: the most suspicious window (as the shipped scorer computes it, before quantisation). */
export const docLogit = (model, text, config = DEFAULT_CONFIG) => {
  if (model.head) return Math.max(-Infinity, ...windowsOf(text, config).map((row) => logitOf(model, row.x, config) + headLogit(model.head, row.e)));
  const logits = windowFeatures(text, config).map((x) => logitOf(model, x, config));
  if (config.offTopic) {
    // logit − β · (similarity of the sentence to the rest of the document − prior), as the scorer does.
    model.adjuster ??= createOffTopicAdjuster(serializeOffTopic(model, config));
    // `far` (experiment only): similarity to the rest without the two neighbouring sentences.
    const sims = config.offTopic.far ? neighbourSimilarities(model, text, config.offTopic, 'far') : model.adjuster.similarities(text, splitSentences(text));
    // `mode` (experiment only, not read by the scorer): 'raise' = only off-topic sentences move, 'lower' = only on-topic ones.
    const clip = { raise: (d) => Math.min(0, d), lower: (d) => Math.max(0, d) }[config.offTopic.mode] ?? ((d) => d);
    const near = config.offTopic.gamma ? neighbourSimilarities(model, text, config.offTopic) : null;
    return Math.max(-Infinity, ...logits.map((l, i) => l - model.adjuster.beta * clip(sims[i] - model.adjuster.prior) - (near ? config.offTopic.gamma * (near[i] - model.adjuster.prior) : 0)));
  }
  return Math.max(-Infinity, ...logits);
};
export const logit = (p) => Math.log(p / (1 - p));

/** Positive examples: each attack wrapped by every training wrapper, alone and after a benign sentence. */
export function injectionExamples({ attacks, carriers, inputs, toxic }, r, config = DEFAULT_CONFIG, wrappers = WRAPPERS) {
  const examples = [];
  const benignSentences = carriers.flatMap((c) => splitSentences(c.text).map((s) => c.text.slice(s.start, s.end))).filter((s) => s.length > 20);
  for (const a of attacks) {
    for (const wrap of Object.values(wrappers)) {
      const attack = wrap(a.text);
      const before = benignSentences[Math.floor(r() * benignSentences.length)];
      for (const text of [attack, `${before}\n${attack}`]) examples.push({ ...exampleOf(text, config), y: 1 });
    }
  }
  // EXPERIMENT `offTopic.trainOffset` (λ): benign sentences train with their off-topic adjustment × λ as a
  // fixed logit offset, so the n-grams learn what the adjustment leaves unexplained.
  const lambda = config.offTopic?.trainOffset ?? 0;
  const adjuster = lambda ? createOffTopicAdjuster(serializeOffTopic(fitCentre({}, carriers, config), config)) : null;
  for (const c of carriers) {
    const sims = adjuster?.similarities(c.text, splitSentences(c.text));
    windowsOf(c.text, config).forEach((row, i) => examples.push({ ...row, y: 0, ...(sims ? { offset: -lambda * adjuster.beta * (sims[i] - adjuster.prior) } : {}) }));
  }
  for (const t of [...inputs, ...toxic]) examples.push({ ...exampleOf(t.text, config), y: 0 });
  return examples;
}

/** Deterministic grouped fold assignment: groups sorted, shuffled by `r`, dealt round-robin. */
export function assignGroupFolds(groups, k, r) {
  const sorted = [...new Set(groups)].sort();
  for (let i = sorted.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [sorted[i], sorted[j]] = [sorted[j], sorted[i]]; }
  return new Map(sorted.map((g, i) => [g, i % k]));
}

/**
 * Grouped k-fold CV inside `data` (repeated with different fold assignments and pooled): each fold
 * model (AgentDojo wrappers only) scores the benign carriers and the attacks of groups it did not see,
 * attacks embedded with the extra training wrappers or raw. Returns out-of-fold document logits.
 */
export function crossValidate(data, r, config = DEFAULT_CONFIG) {
  const { attacks, carriers } = data;
  const valWrappers = [TRAIN_WRAPPERS.raw, ...Object.values(EXTRA_TRAIN_WRAPPERS)];
  const benign = [];
  const attacked = [];
  for (let repeat = 0; repeat < config.cvRepeats; repeat++) {
    const attackFold = assignGroupFolds(attacks.map((a) => a.group), config.cvFolds, r);
    const carrierFold = assignGroupFolds(carriers.map((c) => c.cvGroup ?? c.group), config.cvFolds, r);
    for (let k = 0; k < config.cvFolds; k++) {
      const inFold = (a) => attackFold.get(a.group) === k;
      const carrierIn = (c) => carrierFold.get(c.cvGroup ?? c.group) === k;
      const valCarriers = carriers.filter(carrierIn);
      const valAttacks = attacks.filter((a) => inFold(a) && !a.trainOnly);
      if (!valCarriers.some((c) => !c.generated)) continue;
      const fold = { ...data, attacks: attacks.filter((a) => a.trainOnly || !inFold(a)), carriers: carriers.filter((c) => !carrierIn(c)) };
      const model = fitCentre(trainLogistic(injectionExamples(fold, r, config, TRAIN_WRAPPERS), r, config), fold.carriers, config);
      // Generated hard negatives train the model but do not set the threshold: 40 near-variants per
      // template would dominate the pool and put the cut where real tool outputs are not.
      for (const c of valCarriers) if (!c.generated) benign.push(docLogit(model, c.text, config));
      valAttacks.forEach((a, i) => {
        const text = embed(valCarriers[i % valCarriers.length], valWrappers[i % valWrappers.length](a.text), r);
        attacked.push({ source: a.source, logit: docLogit(model, text, config) });
      });
    }
  }
  return { benign, attacked };
}

/** Bias shift that puts `config.threshold` at `config.targetFpr` on out-of-fold benign documents. */
export function calibrate({ benign, attacked }, config = DEFAULT_CONFIG) {
  const scores = [...benign].sort((a, b) => a - b);
  const cut = scores[Math.min(scores.length - 1, Math.floor(scores.length * (1 - config.targetFpr)))];
  const shift = logit(config.threshold) - cut - 1e-6;
  const detected = (a) => a.logit + shift >= logit(config.threshold);
  const bySource = {};
  for (const a of attacked) {
    bySource[a.source] ??= [0, 0];
    bySource[a.source][0] += detected(a) ? 1 : 0;
    bySource[a.source][1]++;
  }
  return { shift, validationRecall: attacked.filter(detected).length / attacked.length, validationBySource: bySource, validationDocs: benign.length, validationAttacks: attacked.length };
}

/**
 * The whole procedure on one body of training data: grouped CV → bias calibration → final fit.
 * `data`: `{ attacks, carriers, inputs, toxic }`.
 */
export function trainProcedure(data, r, config = DEFAULT_CONFIG) {
  const calibration = calibrate(crossValidate(data, r, config), config);
  const model = fitCentre(trainLogistic(injectionExamples(data, r, config), r, config), data.carriers, config);
  model.bias += calibration.shift;
  return { model, calibration };
}

/** int8-quantised serialised weights in the format linear-model.ts reads. */
export function serializeModel(name, model, config = DEFAULT_CONFIG, trainedOn = undefined) {
  const abs = Array.from(model.w, Math.abs).filter((v) => v > 0).sort((a, b) => a - b);
  const max = abs.length ? abs[Math.floor(abs.length * 0.9999)] : 1;
  const scale = max / 127;
  const bytes = Buffer.alloc(FEATURE_BUCKETS);
  for (let i = 0; i < FEATURE_BUCKETS; i++) bytes.writeInt8(Math.max(-127, Math.min(127, Math.round(model.w[i] / scale))), i);
  const round = (v) => Math.round(v * 1e6) / 1e6;
  if (model.head) throw new Error('the dense-head experiment is not shippable (see docs/content-safety.md)');
  const offTopic = config.offTopic ? { offTopic: serializeOffTopic(model, config) } : {};
  return { format: 'tollgate-linear-v1', name, buckets: FEATURE_BUCKETS, bias: round(model.bias), scale, smoothing: config.smoothing, windowSentences: config.windowSentences, windowChars: config.windowChars, weights: bytes.toString('base64'), ...offTopic, ...(trainedOn ? { trainedOn } : {}) };
}
