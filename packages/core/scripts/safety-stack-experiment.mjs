#!/usr/bin/env node
// EXPERIMENT (issue 7, third round): does a small non-linear combiner over per-sentence
// context-mismatch features (safety-context-features.mjs) + the linear scorer's logits separate
// unframed injected goals from benign imperative sentences better than the linear scorer's max?
//
// Protocol — INNER grouped CV on the TRAIN split only, seeds 1–3, exactly the fold structure of
// safety-train-lib.mjs `crossValidate`: per repeat, attack groups and carrier groups are dealt into
// 4 folds; the fold's base model never sees them. Stacking without leakage: the combiner that
// scores fold k of a repeat is trained only on the out-of-fold rows of the OTHER folds of that repeat
// (different attack and carrier groups). Both scores are then cut at 1% / 2% FPR on the pooled real
// (non-generated) benign documents, like `calibrate`.
//
// Usage: nice -n 19 node packages/core/scripts/safety-stack-experiment.mjs '{"depth":2,"rounds":150}' …
import { TRAIN_WRAPPERS, embed, rng } from './safety-data.mjs';
import { EXTRA_TRAIN_WRAPPERS } from './safety-corpus/attack-goals.mjs';
import { DEFAULT_CONFIG, assignGroupFolds, injectionExamples, trainLogistic } from './safety-train-lib.mjs';
import { trainingData } from './train-safety.mjs';
import { CONTEXT_FEATURE_NAMES, contextFeatureRows } from './safety-context-features.mjs';
import { fitBoostedTrees, fitOffsetLogistic, fitOffsetMlp, predictBoostedTrees, predictOffsetLogistic, predictOffsetMlp } from './safety-combiners.mjs';

const VAL_WRAPPERS = { raw: TRAIN_WRAPPERS.raw, ...EXTRA_TRAIN_WRAPPERS };

/** Out-of-fold documents with per-sentence feature rows and sentence labels, for one seed. */
export function oofDocuments(data, r, config = DEFAULT_CONFIG) {
  const { attacks, carriers } = data;
  const docs = [];
  const wrappers = Object.entries(VAL_WRAPPERS);
  for (let repeat = 0; repeat < config.cvRepeats; repeat++) {
    const attackFold = assignGroupFolds(attacks.map((a) => a.group), config.cvFolds, r);
    const carrierFold = assignGroupFolds(carriers.map((c) => c.cvGroup ?? c.group), config.cvFolds, r);
    for (let k = 0; k < config.cvFolds; k++) {
      const carrierIn = (c) => carrierFold.get(c.cvGroup ?? c.group) === k;
      const inFold = (a) => attackFold.get(a.group) === k;
      const valCarriers = carriers.filter(carrierIn);
      const valAttacks = attacks.filter((a) => inFold(a) && !a.trainOnly);
      if (!valCarriers.some((c) => !c.generated)) continue;
      const fold = { ...data, attacks: attacks.filter((a) => a.trainOnly || !inFold(a)), carriers: carriers.filter((c) => !carrierIn(c)) };
      const model = trainLogistic(injectionExamples(fold, r, config, TRAIN_WRAPPERS), r, config);
      for (const c of valCarriers) {
        const { rows } = contextFeatureRows(c.text, model, config.smoothing);
        docs.push({ repeat, fold: k, y: 0, generated: !!c.generated, kind: c.kind, rows, labels: rows.map(() => 0) });
      }
      valAttacks.forEach((a, i) => {
        wrappers.forEach(([name, wrap], w) => {
          const attack = wrap(a.text);
          const text = embed(valCarriers[(i * wrappers.length + w) % valCarriers.length], attack, r);
          const at = text.indexOf(attack);
          const { sentences, rows } = contextFeatureRows(text, model, config.smoothing);
          const labels = sentences.map((s) => (s.start < at + attack.length && at < s.end ? 1 : 0));
          docs.push({ repeat, fold: k, y: 1, source: a.source, wrapper: name, rows, labels });
        });
      });
    }
  }
  return docs;
}

/**
 * Fits one combiner on `train` documents. Returns a document scorer. Variants (params):
 * default — boosted trees on sentence rows (positives: the sentences of the inserted attack), document = max;
 * docLevel — boosted trees on the two highest-logit sentences of each document, document labels;
 * linear / linear+mlp — offset logistic regression / 1-hidden-layer MLP on the top sentence's row;
 * offsetFromLogit — trees start from the base logit and learn corrections; band — linear fit on
 * documents above that quantile of the training benign scores only.
 */
function fitCombiner(train, params, pick) {
  const offset = params.offsetFromLogit ? 0 : -1;
  if (params.linear) {
    const tops = train.map(topRow);
    let keep = train.map(() => true);
    if (params.band) {
      const b = train.map((d, i) => (d.y === 0 && !d.generated ? tops[i][0] : null)).filter((v) => v !== null).sort((a, c) => a - c);
      const lo = b[Math.floor(b.length * params.band)];
      keep = tops.map((t) => t[0] > lo);
    }
    const [fit, predict] = params.mlp ? [fitOffsetMlp, predictOffsetMlp] : [fitOffsetLogistic, predictOffsetLogistic];
    const model = fit(tops.filter((_, i) => keep[i]).map(pick), train.filter((_, i) => keep[i]).map((d) => d.y), params);
    return (d) => predict(model, pick(topRow(d)));
  }
  if (params.docLevel) {
    const trees = fitBoostedTrees(train.map((d) => docRow(d, pick)), train.map((d) => d.y), { ...params, offset });
    return (d) => predictBoostedTrees(trees, docRow(d, pick));
  }
  const X = [], Y = [];
  for (const d of train) d.rows.forEach((row, i) => { X.push(pick(row)); Y.push(d.labels[i]); });
  const trees = fitBoostedTrees(X, Y, { ...params, offset });
  return (d) => Math.max(-Infinity, ...d.rows.map((row) => predictBoostedTrees(trees, pick(row))));
}

/** Stacked combiner scores per document, each from a combiner not trained on its fold (same repeat, other folds). */
export function stackedScores(docs, params, featureIdx) {
  const pick = (row) => featureIdx.map((j) => row[j]);
  const out = new Map();
  for (const key of new Set(docs.map((d) => `${d.repeat}:${d.fold}`))) {
    const [repeat, fold] = key.split(':').map(Number);
    // inSample: the combiner also sees the fold it scores (a diagnostic of over-fitting, never a result).
    const trains = (d) => d.repeat === repeat && (params.inSample || d.fold !== fold) && (d.y === 0 || !params.trainWrappers || params.trainWrappers.includes(d.wrapper));
    const score = fitCombiner(docs.filter(trains), params, pick);
    for (const d of docs) if (d.repeat === repeat && d.fold === fold) out.set(d, score(d));
  }
  return out;
}

const topRow = (d) => d.rows.reduce((b, r) => (r[0] > b[0] ? r : b));

/** Document row: the picked features of its two highest-logit sentences (the first feature must be the logit). */
function docRow(d, pick) {
  const order = d.rows.map((row, i) => [row[0], i]).sort((a, b) => b[0] - a[0]);
  const top = pick(d.rows[order[0][1]]);
  const second = order[1] ? pick(d.rows[order[1][1]]) : top.map(() => -1);
  return [...top, ...second];
}

/** Recall at the cut that leaves `fpr` of the real benign documents above it (as `calibrate`). */
export function recallAt(docs, score, fpr) {
  const benign = docs.filter((d) => d.y === 0 && !d.generated).map(score).sort((a, b) => a - b);
  const cut = benign[Math.min(benign.length - 1, Math.floor(benign.length * (1 - fpr)))];
  const att = docs.filter((d) => d.y === 1);
  const hit = (d) => score(d) > cut;
  const by = (key) => Object.fromEntries([...new Set(att.map((d) => d[key]))].map((v) => { const g = att.filter((d) => d[key] === v); return [v, +(g.filter(hit).length / g.length).toFixed(3)]; }));
  return { recall: att.filter(hit).length / att.length, bySource: by('source'), byWrapper: by('wrapper') };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const variants = process.argv.slice(2).map((a) => JSON.parse(a));
  const seeds = (process.env.SEEDS ?? '1,2,3').split(',').map(Number);
  const results = variants.map(() => []);
  const base = [];
  for (const seed of seeds) {
    const t0 = Date.now();
    const docs = oofDocuments(trainingData(), rng(seed));
    const baseScore = (d) => Math.max(...d.rows.map((row) => row[0]));
    const b1 = recallAt(docs, baseScore, 0.01), b2 = recallAt(docs, baseScore, 0.02);
    base.push(b2.recall);
    console.log(`seed ${seed} (${docs.length} docs, ${((Date.now() - t0) / 1000).toFixed(0)} s): base max-logit @1%/@2% ${b1.recall.toFixed(3)}/${b2.recall.toFixed(3)} wrappers@2% ${JSON.stringify(b2.byWrapper)} sources@2% ${JSON.stringify(b2.bySource)}`);
    variants.forEach((v, vi) => {
      const idx = (v.features ?? CONTEXT_FEATURE_NAMES).map((n) => CONTEXT_FEATURE_NAMES.indexOf(n)).filter((j) => j >= 0 && !(v.drop ?? []).includes(CONTEXT_FEATURE_NAMES[j]));
      const scores = stackedScores(docs, v, idx);
      const s = (d) => scores.get(d);
      const r1 = recallAt(docs, s, 0.01), r2 = recallAt(docs, s, 0.02);
      results[vi].push(r2.recall);
      console.log(`  ${JSON.stringify(v)} @1%/@2% ${r1.recall.toFixed(3)}/${r2.recall.toFixed(3)} wrappers@2% ${JSON.stringify(r2.byWrapper)} sources@2% ${JSON.stringify(r2.bySource)}`);
    });
  }
  const mean = (a) => (a.reduce((x, y) => x + y, 0) / a.length).toFixed(3);
  console.log(`MEAN @2%: base ${mean(base)}; ${variants.map((v, i) => `${JSON.stringify(v)} ${mean(results[i])}`).join('; ')}`);
}
