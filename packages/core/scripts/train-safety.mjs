#!/usr/bin/env node
// Trains Tollgate's built-in injection and toxicity scorers (logistic regression over hashed word
// and character n-grams) on the TRAIN split of safety-data.mjs, and writes the weights to
// packages/core/src/safety/model/{injection,toxicity}-model.ts.
//
// Usage:  npm run build -w @tollgate/core && node packages/core/scripts/train-safety.mjs [--data DIR]
// Deterministic: a fixed seed drives every shuffle and sample, so the same data gives the same bytes.
// The test split is never read here (bench/safety-eval.mjs reads it).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FEATURE_BUCKETS, createFoldBuffer, sentenceFeatures, splitSentences, textFeatures } from '../dist/safety/features.js';
import { EXTRA_TRAIN_WRAPPERS, trainingAttackGoals } from './safety-corpus/attack-goals.mjs';
import { DEFAULT_DATA_DIR, TRAIN_WRAPPERS, embed, loadAttacks, loadBenignInputs, loadCarriers, loadToxicity, rng } from './safety-data.mjs';

const SEED = 20240611;
const WRAPPERS = { ...TRAIN_WRAPPERS, ...EXTRA_TRAIN_WRAPPERS };
const MODEL_SHAPE = { smoothing: Number(process.env.SAFETY_SMOOTHING ?? 30), windowSentences: Number(process.env.SAFETY_WINDOW ?? 1), windowChars: 600 };
const SEED_THRESHOLDS = { injection: 0.35, toxicity: 0.4 };
const TARGET_VALIDATION_FPR = 0.01;
const CV_REPEATS = Number(process.env.SAFETY_CV_REPEATS ?? 3);
const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '../src/safety/model');
const dataDir = process.argv.includes('--data') ? process.argv[process.argv.indexOf('--data') + 1] : DEFAULT_DATA_DIR;

/** Every window the scorer will look at (same rule as linear-model.ts), as feature arrays. */
function windowFeatures(text) {
  const sentences = splitSentences(text);
  const fold = createFoldBuffer();
  const per = sentences.map((s) => { const b = []; sentenceFeatures(text, s.start, s.end, { add: (x) => b.push(x) }, fold); return b; });
  const out = [];
  for (let i = 0; i < sentences.length; i++) {
    let acc = [];
    for (let j = i; j < sentences.length && j < i + MODEL_SHAPE.windowSentences; j++) {
      if (j > i && sentences[j].end - sentences[i].start > MODEL_SHAPE.windowChars) break;
      acc = acc.concat(per[j]);
      out.push(acc);
    }
  }
  return out;
}

const HYPER = { epochs: Number(process.env.SAFETY_EPOCHS ?? 20), lr: Number(process.env.SAFETY_LR ?? 0.5), l2: Number(process.env.SAFETY_L2 ?? 1e-6) };

function trainLogistic(examples, r, { epochs, lr, l2 } = HYPER) {
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
      const { x, y } = examples[idx];
      const norm = 1 / Math.sqrt(x.length + MODEL_SHAPE.smoothing);
      let dot = 0;
      for (const f of x) dot += w[f];
      const p = 1 / (1 + Math.exp(-(bias + dot * norm)));
      const g = (y - p) * classWeight[y] * rate;
      for (const f of x) w[f] += g * norm - l2 * w[f];
      bias += g * 0.1;
    }
  }
  return { w, bias };
}

const logitOf = (model, x) => { let d = 0; for (const f of x) d += model.w[f]; return model.bias + d / Math.sqrt(x.length + MODEL_SHAPE.smoothing); };
const docLogit = (model, text) => Math.max(-Infinity, ...windowFeatures(text).map((x) => logitOf(model, x)));
const logit = (p) => Math.log(p / (1 - p));

function injectionExamples(attacks, carriers, inputs, toxic, r, wrappers = WRAPPERS) {
  const examples = [];
  const benignSentences = carriers.flatMap((c) => splitSentences(c.text).map((s) => c.text.slice(s.start, s.end))).filter((s) => s.length > 20);
  for (const a of attacks) {
    for (const wrap of Object.values(wrappers)) {
      const attack = wrap(a.text);
      examples.push({ x: textFeatures(attack), y: 1 });
      const before = benignSentences[Math.floor(r() * benignSentences.length)];
      examples.push({ x: textFeatures(`${before}\n${attack}`), y: 1 });
    }
  }
  for (const c of carriers) for (const x of windowFeatures(c.text)) examples.push({ x, y: 0 });
  for (const t of [...inputs, ...toxic]) examples.push({ x: textFeatures(t.text), y: 0 });
  return examples;
}

/**
 * 4-fold cross-validation on the TRAIN split: each fold model (AgentDojo wrappers only) scores the
 * benign documents and attacks it did not see; attacks are embedded with the extra wrappers or raw,
 * so validation mimics the held-out test. Returns out-of-fold document logits.
 */
function crossValidate(attacks, carriers, inputs, toxic, r) {
  const groups = [...new Set(attacks.map((a) => a.group))];
  const valWrappers = [TRAIN_WRAPPERS.raw, ...Object.values(EXTRA_TRAIN_WRAPPERS)];
  const benign = [];
  const attacked = [];
  // Repeated with different random fold assignments and pooled: one 4-fold run puts the 2% cut on
  // ~5 documents, which made the calibrated bias (and recall) swing between retrainings.
  for (let repeat = 0; repeat < CV_REPEATS; repeat++) {
    const groupFold = new Map(groups.map((g) => [g, Math.floor(r() * 4)]));
    const carrierFold = carriers.map(() => Math.floor(r() * 4));
    for (let k = 0; k < 4; k++) {
      const valGroups = new Set(groups.filter((g) => groupFold.get(g) === k));
      const model = trainLogistic(injectionExamples(attacks.filter((a) => !valGroups.has(a.group)), carriers.filter((_, i) => carrierFold[i] !== k), inputs, toxic, r, TRAIN_WRAPPERS), r);
      const valCarriers = carriers.filter((_, i) => carrierFold[i] === k);
      for (const c of valCarriers) benign.push(docLogit(model, c.text));
      attacks.filter((a) => valGroups.has(a.group)).forEach((a, i) => {
        const text = embed(valCarriers[i % valCarriers.length], valWrappers[i % valWrappers.length](a.text), r);
        attacked.push({ source: a.source, logit: docLogit(model, text) });
      });
    }
  }
  return { benign, attacked };
}

/** Bias shift that puts the seed threshold at TARGET_VALIDATION_FPR on out-of-fold benign documents. */
function calibrate({ benign, attacked }, threshold) {
  const scores = [...benign].sort((a, b) => a - b);
  const cut = scores[Math.min(scores.length - 1, Math.floor(scores.length * (1 - TARGET_VALIDATION_FPR)))];
  const shift = logit(threshold) - cut - 1e-6;
  const bySource = {};
  for (const a of attacked) {
    bySource[a.source] ??= [0, 0];
    bySource[a.source][0] += a.logit + shift >= logit(threshold) ? 1 : 0;
    bySource[a.source][1]++;
  }
  const recall = attacked.filter((a) => a.logit + shift >= logit(threshold)).length / attacked.length;
  return { shift, validationRecall: recall, validationBySource: bySource, validationDocs: benign.length, validationAttacks: attacked.length };
}

function trainInjection() {
  const r = rng(SEED);
  const attacks = [...loadAttacks(dataDir).filter((a) => a.split === 'train'), ...trainingAttackGoals()];
  const carriers = loadCarriers(dataDir).filter((c) => c.split === 'train');
  const inputs = loadBenignInputs(dataDir).filter((c) => c.split === 'train');
  const toxic = loadToxicity().filter((t) => t.split === 'train');
  const calibration = calibrate(crossValidate(attacks, carriers, inputs, toxic, r), SEED_THRESHOLDS.injection);
  const model = trainLogistic(injectionExamples(attacks, carriers, inputs, toxic, r), r);
  model.bias += calibration.shift;
  return { model, info: { attacks: attacks.length, carriers: carriers.length, hyper: HYPER, calibration } };
}

function trainToxicity() {
  const r = rng(SEED + 1);
  const toxic = loadToxicity().filter((t) => t.split === 'train');
  const carriers = loadCarriers(dataDir).filter((c) => c.split === 'train');
  const examples = toxic.map((t) => ({ x: textFeatures(t.text), y: t.toxic ? 1 : 0 }));
  for (const c of carriers) for (const x of windowFeatures(c.text)) examples.push({ x, y: 0 });
  for (const a of loadAttacks(dataDir).filter((a) => a.split === 'train' && a.source === 'asb')) examples.push({ x: textFeatures(a.text), y: 0 });
  const model = trainLogistic(examples, r);
  return { model, info: { toxic: toxic.filter((t) => t.toxic).length, carriers: carriers.length } };
}

function serialize(name, { model, info }) {
  let max = 0;
  const abs = Array.from(model.w, Math.abs).filter((v) => v > 0).sort((a, b) => a - b);
  max = abs.length ? abs[Math.floor(abs.length * 0.9999)] : 1;
  const scale = max / 127;
  const bytes = Buffer.alloc(FEATURE_BUCKETS);
  for (let i = 0; i < FEATURE_BUCKETS; i++) bytes.writeInt8(Math.max(-127, Math.min(127, Math.round(model.w[i] / scale))), i);
  const json = { format: 'tollgate-linear-v1', name, buckets: FEATURE_BUCKETS, bias: round(model.bias), scale, ...MODEL_SHAPE, weights: bytes.toString('base64'), trainedOn: { seed: SEED, data: 'shared/data/safety train split + Tollgate benign corpus', ...info } };
  const constName = `${name.toUpperCase()}_MODEL`;
  const body = `// Generated by packages/core/scripts/train-safety.mjs — do not edit by hand (retrain instead).\nimport type { SerializedLinearModel } from '../linear-model.js';\n\n/** Built-in ${name} scorer weights: logistic regression over hashed n-grams, int8-quantised. */\nexport const ${constName}: SerializedLinearModel = ${JSON.stringify(json)};\n`;
  writeFileSync(join(outDir, `${name}-model.ts`), body);
  console.log(`${name}: bias ${json.bias}, scale ${scale.toExponential(3)}, ${JSON.stringify(info)}`);
}

const round = (v) => Math.round(v * 1e6) / 1e6;
if (process.argv.includes('--validate-only')) console.log(JSON.stringify(trainInjection().info.calibration));
else {
  serialize('injection', trainInjection());
  serialize('toxicity', trainToxicity());
}
