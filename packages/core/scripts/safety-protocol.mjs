// Grouped cross-validation over ALL source groups — the headline evaluation of the built-in
// injection scorer (bench/safety-eval.mjs). Every attack group (ASB agent, BIPIA category, AgentDojo
// suite, Giskard family) and every benign carrier group (AgentDojo section, e-mail/document block,
// generated-record template) is dealt into one of K outer folds. For each fold the WHOLE training
// procedure of safety-train-lib.mjs (inner grouped CV → calibration → fit) runs on the other folds,
// and the resulting model — inside the real scanner, patterns included — scores the held-out groups:
// attacks embedded (with the test-only wrappers) in held-out benign tool outputs, and those outputs
// alone. Nothing about a fold's test groups is seen by its model or by its calibration.
import { createSafetyScanner } from '../dist/index.js';
import { trainingAttackGoals } from './safety-corpus/attack-goals.mjs';
import { TEST_WRAPPERS, TRIGGER_PHRASE, embed, loadAttacks, loadBenignInputs, loadCarriers, loadToxicity, rng } from './safety-data.mjs';
import { DEFAULT_CONFIG, assignGroupFolds, serializeModel, trainProcedure } from './safety-train-lib.mjs';

export const DEFAULT_OUTER_FOLDS = 10;
const SEED = 9001;

/** Every attack and carrier of the data set, with its outer fold. */
function allData(k, r) {
  const attacks = loadAttacks();
  const carriers = loadCarriers();
  const attackFold = assignGroupFolds(attacks.map((a) => a.group), k, r);
  const carrierFold = assignGroupFolds(carriers.map((c) => c.cvGroup ?? c.group), k, r);
  return {
    attacks: attacks.map((a) => ({ ...a, fold: attackFold.get(a.group) })),
    carriers: carriers.map((c) => ({ ...c, fold: carrierFold.get(c.cvGroup ?? c.group) })),
    inputs: loadBenignInputs(),
    toxic: loadToxicity().filter((t) => t.split === 'train'),
  };
}

/**
 * Runs the grouped K-fold evaluation. Returns per-document scores (`positives`, `negatives`) with
 * their metadata, and per-fold calibration facts.
 *
 * @example
 * const { positives, negatives } = groupedCrossValidation({ folds: 10 });
 */
export function groupedCrossValidation({ folds = DEFAULT_OUTER_FOLDS, config = DEFAULT_CONFIG, log = () => {} } = {}) {
  const r = rng(SEED);
  const data = allData(folds, r);
  const goals = trainingAttackGoals();
  const wrappers = Object.entries(TEST_WRAPPERS);
  const positives = [];
  const negatives = [];
  const foldInfo = [];
  for (let k = 0; k < folds; k++) {
    const train = {
      attacks: [...data.attacks.filter((a) => a.fold !== k), ...goals],
      carriers: data.carriers.filter((c) => c.fold !== k),
      inputs: data.inputs,
      toxic: data.toxic,
    };
    const { model, calibration } = trainProcedure(train, rng(SEED + k), config);
    const scanner = createSafetyScanner({ template: 'STANDARD', models: { injection: serializeModel('injection', model, config) } });
    const testCarriers = data.carriers.filter((c) => c.fold === k);
    const testAttacks = data.attacks.filter((a) => a.fold === k);
    for (const c of testCarriers) negatives.push({ fold: k, kind: c.kind, group: c.group, score: scanner.scan(c.text, 'tool_output').scores.injection, excerpt: c.text.slice(0, 120) });
    for (const a of testAttacks) {
      for (let n = 0; n < 2; n++) {
        const [wrapper, wrap] = wrappers[Math.floor(r() * wrappers.length)];
        const attack = wrap(a.text);
        const doc = embed(testCarriers[Math.floor(r() * testCarriers.length)], attack, r);
        positives.push({ fold: k, source: a.source, group: a.group, wrapper, trigger: TRIGGER_PHRASE.test(attack), score: scanner.scan(doc, 'tool_output').scores.injection });
      }
    }
    foldInfo.push({ fold: k, attackGroups: [...new Set(testAttacks.map((a) => a.group))], carrierGroups: [...new Set(testCarriers.map((c) => c.cvGroup ?? c.group))], innerValidationRecall: Math.round(calibration.validationRecall * 1000) / 1000 });
    log(`outer fold ${k + 1}/${folds}: ${testAttacks.length} attacks, ${testCarriers.length} benign outputs held out`);
  }
  return { folds, positives, negatives, foldInfo };
}
