#!/usr/bin/env node
// Compares training configurations of the injection scorer by the INNER grouped cross-validation on
// the TRAIN split only (the rule by which docs/content-safety.md keeps or drops a change). One
// validation run moves by ±0.03 between seeds (the 1% cut rests on a handful of documents), so this
// repeats it with three seeds and prints recall at 1% and 2% FPR per seed and the mean at 2%.
//
// Usage:  npx tsc -b packages/core && node packages/core/scripts/safety-compare.mjs '{"epochs":30}' '{"l2":1e-5}'
// (each argument: a JSON object of DEFAULT_CONFIG overrides; none = the shipped configuration).
// The held-out split and the outer folds of bench/safety-eval.mjs are never read here.
import { rng } from './safety-data.mjs';
import { DEFAULT_CONFIG, calibrate, crossValidate } from './safety-train-lib.mjs';
import { trainingData } from './train-safety.mjs';

export const COMPARE_SEEDS = [1, 2, 3];

/**
 * Inner-CV recall at 1% and 2% FPR for one configuration, per seed.
 *
 * @example
 * compareConfig({ epochs: 30 }).mean2 // e.g. 0.77
 */
export function compareConfig(overrides = {}) {
  const config = { ...DEFAULT_CONFIG, ...overrides };
  const runs = COMPARE_SEEDS.map((seed) => {
    const cv = crossValidate(trainingData(), rng(seed), config);
    return { seed, at1: calibrate(cv, { ...config, targetFpr: 0.01 }).validationRecall, at2: calibrate(cv, { ...config, targetFpr: 0.02 }).validationRecall };
  });
  return { overrides, runs, mean2: runs.reduce((s, r) => s + r.at2, 0) / runs.length };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const configs = process.argv.slice(2).map((a) => JSON.parse(a));
  for (const overrides of configs.length ? configs : [{}]) {
    const { runs, mean2 } = compareConfig(overrides);
    const cells = runs.map((r) => `${r.at1.toFixed(3)}/${r.at2.toFixed(3)}`).join('  ');
    console.log(`${JSON.stringify(overrides)}  recall @1%/@2% per seed: ${cells}  mean @2%: ${mean2.toFixed(3)}`);
  }
}
