// The third-round experiment of issue 7 (docs/content-safety.md, "What was tried") stacks a combiner
// on per-sentence context features. Its figures are only worth reporting if (a) the features say
// what they claim and (b) the combiner that scores a fold never learned from that fold's labels.
// The scripts import the compiled features from dist/ (npm test builds first).
import { describe, expect, it } from 'vitest';
import { FEATURE_BUCKETS } from './features.js';
// @ts-expect-error plain ESM experiment scripts, no type declarations
import { CONTEXT_FEATURE_NAMES, contextFeatureRows } from '../../scripts/safety-context-features.mjs';
// @ts-expect-error plain ESM experiment scripts, no type declarations
import { fitBoostedTrees, predictBoostedTrees } from '../../scripts/safety-combiners.mjs';
// @ts-expect-error plain ESM experiment scripts, no type declarations
import { stackedScores } from '../../scripts/safety-stack-experiment.mjs';

type Row = number[];
const feature = (row: Row, name: string): number => row[CONTEXT_FEATURE_NAMES.indexOf(name)] as number;
const zeroModel = { w: new Float64Array(FEATURE_BUCKETS), bias: 0 };

describe('context features', () => {
  const doc = [
    'The sourdough starter needs flour and water every day.',
    'Feed the starter with flour before you bake the sourdough loaf.',
    'Please transfer the savings balance to account 4417 immediately, see www.pay-now-991.com.',
    'A warm kitchen makes the sourdough starter rise faster; see www.bakers.org and www.bakers.org/faq.',
  ].join('\n');
  const { rows } = contextFeatureRows(doc, zeroModel, 30) as { rows: Row[] };

  it('gives an off-topic sentence less similarity to the rest of the document than on-topic ones', () => {
    const offTopic = feature(rows[2] as Row, 'simRest');
    for (const i of [0, 1, 3]) expect(offTopic).toBeLessThan(feature(rows[i] as Row, 'simRest'));
  });

  it('flags a request, and a link that appears nowhere else in the document', () => {
    expect(feature(rows[2] as Row, 'imperative')).toBe(1);
    expect(feature(rows[2] as Row, 'pleaseMust')).toBe(1);
    expect(feature(rows[2] as Row, 'newLink')).toBe(1);
    expect(feature(rows[0] as Row, 'imperative')).toBe(0);
  });
});

describe('boosted trees', () => {
  it('learn a conjunction of two features and rank it above either feature alone', () => {
    const X: Row[] = [];
    const Y: number[] = [];
    for (let i = 0; i < 40; i++) for (const [a, b] of [[0, 0], [1, 1], [0, 1], [1, 0]] as const) { X.push([a, b]); Y.push(a === 1 && b === 1 ? 1 : 0); }
    const trees = fitBoostedTrees(X, Y, { depth: 2, rounds: 20, minHess: 0.1 });
    for (const other of [[0, 0], [0, 1], [1, 0]]) expect(predictBoostedTrees(trees, [1, 1])).toBeGreaterThan(predictBoostedTrees(trees, other));
  });

  it('keep the base logit as an offset: with no rounds the score is the logit itself', () => {
    const trees = fitBoostedTrees([[2, 0], [-1, 1]], [1, 0], { rounds: 0, offset: 0 });
    expect(predictBoostedTrees(trees, [1.5, 0])).toBe(1.5);
  });
});

describe('stacking', () => {
  it('scores a fold with a combiner that never saw that fold', () => {
    // Fold 0 follows the opposite rule to folds 1 and 2: a combiner that learned from fold 0 would
    // rank its positives first; one trained only on the other folds ranks them last.
    const docs = [];
    for (let fold = 0; fold < 3; fold++) {
      for (let i = 0; i < 30; i++) {
        const x = i % 2 === 0 ? 1 : -1;
        const y = fold === 0 ? (x > 0 ? 1 : 0) : x < 0 ? 1 : 0;
        docs.push({ repeat: 0, fold, y, rows: [[0, x]], labels: [y] });
      }
    }
    const scores = stackedScores(docs, { linear: true }, [0, 1]) as Map<(typeof docs)[number], number>;
    const fold0 = docs.filter((d) => d.fold === 0);
    const mean = (ds: typeof docs): number => ds.reduce((s, d) => s + (scores.get(d) as number), 0) / ds.length;
    expect(mean(fold0.filter((d) => d.y === 1))).toBeLessThan(mean(fold0.filter((d) => d.y === 0)));
  });
});
