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
import { FEATURE_BUCKETS, sentenceFeatures, splitSentences, textFeatures } from '../dist/safety/features.js';
import { DEFAULT_DATA_DIR, TRAIN_WRAPPERS, embed, loadAttacks, loadBenignInputs, loadCarriers, loadToxicity, rng } from './safety-data.mjs';

const SEED = 20240611;
const MODEL_SHAPE = { smoothing: 30, windowSentences: 4, windowChars: 600 };
const SEED_THRESHOLDS = { injection: 0.35, toxicity: 0.4 };
const TARGET_VALIDATION_FPR = 0.01;
const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '../src/safety/model');
const dataDir = process.argv.includes('--data') ? process.argv[process.argv.indexOf('--data') + 1] : DEFAULT_DATA_DIR;

/** Every window the scorer will look at (same rule as linear-model.ts), as feature arrays. */
function windowFeatures(text) {
  const sentences = splitSentences(text);
  const per = sentences.map((s) => { const sink = []; sentenceFeatures(text, s.start, s.end, sink); return sink; });
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

function trainLogistic(examples, r, { epochs = 12, lr = 0.5, l2 = 1e-6 } = {}) {
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

function injectionExamples(attacks, carriers, inputs, toxic, r) {
  const examples = [];
  const benignSentences = carriers.flatMap((c) => splitSentences(c.text).map((s) => c.text.slice(s.start, s.end))).filter((s) => s.length > 20);
  for (const a of attacks) {
    for (const wrap of Object.values(TRAIN_WRAPPERS)) {
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

/** Bias shift that puts the seed threshold at TARGET_VALIDATION_FPR on held-back benign documents. */
function calibrate(model, benignDocs, attackDocs, threshold) {
  const scores = benignDocs.map((d) => docLogit(model, d)).sort((a, b) => a - b);
  const cut = scores[Math.min(scores.length - 1, Math.floor(scores.length * (1 - TARGET_VALIDATION_FPR)))];
  const shift = logit(threshold) - cut - 1e-6;
  const recall = attackDocs.filter((d) => docLogit(model, d) + shift >= logit(threshold)).length / attackDocs.length;
  return { shift, validationRecall: recall, validationDocs: benignDocs.length, validationAttacks: attackDocs.length };
}

function trainInjection() {
  const r = rng(SEED);
  const attacks = loadAttacks(dataDir).filter((a) => a.split === 'train');
  const carriers = loadCarriers(dataDir).filter((c) => c.split === 'train');
  const inputs = loadBenignInputs(dataDir).filter((c) => c.split === 'train');
  const toxic = loadToxicity().filter((t) => t.split === 'train');
  // Validation fold: one attack group per source and every fourth carrier, for calibration only.
  const groups = [...new Set(attacks.map((a) => a.group))];
  const valGroups = new Set(groups.filter((_, i) => i % 4 === 1));
  const isValCarrier = (_, i) => i % 4 === 1;
  const fold = trainLogistic(injectionExamples(attacks.filter((a) => !valGroups.has(a.group)), carriers.filter((c, i) => !isValCarrier(c, i)), inputs, toxic, r), r);
  const valCarriers = carriers.filter(isValCarrier);
  const valAttacks = attacks.filter((a) => valGroups.has(a.group)).map((a, i) => embed(valCarriers[i % valCarriers.length], Object.values(TRAIN_WRAPPERS)[i % 6](a.text), r));
  const calibration = calibrate(fold, valCarriers.map((c) => c.text), valAttacks, SEED_THRESHOLDS.injection);
  const model = trainLogistic(injectionExamples(attacks, carriers, inputs, toxic, r), r);
  model.bias += calibration.shift;
  return { model, info: { attacks: attacks.length, carriers: carriers.length, calibration } };
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
serialize('injection', trainInjection());
serialize('toxicity', trainToxicity());
