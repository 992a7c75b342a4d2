// The evaluation protocol of the built-in injection scorer rests on two invariants: folds are made of
// whole groups (never random rows), and the shipped model's training data holds no group of the
// held-out split. If either broke, every recall/FPR figure in docs/content-safety.md would be optimistic.
// The scripts import the compiled features from dist/ (npm test builds first).
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM training scripts, no type declarations
import { assignGroupFolds } from '../../scripts/safety-train-lib.mjs';
// @ts-expect-error plain ESM training scripts, no type declarations
import { trainingData } from '../../scripts/train-safety.mjs';
// @ts-expect-error plain ESM training scripts, no type declarations
import { loadAttacks, loadCarriers, rng } from '../../scripts/safety-data.mjs';

interface Grouped {
  group: string;
  cvGroup?: string;
  split: string;
  text: string;
}

describe('grouped folds', () => {
  it('puts every member of a group in the same fold, deterministically', () => {
    const groups = ['a', 'b', 'a', 'c', 'd', 'b', 'e', 'a'];
    const first = assignGroupFolds(groups, 3, rng(1)) as Map<string, number>;
    const again = assignGroupFolds(groups, 3, rng(1)) as Map<string, number>;
    expect([...first.keys()].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect([...again.entries()]).toEqual([...first.entries()]);
    expect(new Set(first.values()).size).toBe(3);
  });
});

describe('shipped training data', () => {
  it('holds no attack group, carrier group or text of the held-out split', () => {
    const data = trainingData() as { attacks: Grouped[]; carriers: Grouped[] };
    const testAttacks = (loadAttacks() as Grouped[]).filter((a) => a.split === 'test');
    const testCarriers = (loadCarriers() as Grouped[]).filter((c) => c.split === 'test');
    expect(testAttacks.length).toBeGreaterThan(100);
    expect(testCarriers.length).toBeGreaterThan(100);
    const trainGroups = new Set(data.attacks.map((a) => a.group));
    expect(testAttacks.filter((a) => trainGroups.has(a.group))).toEqual([]);
    const trainCarrierGroups = new Set(data.carriers.map((c) => c.cvGroup ?? c.group));
    const sharedSections = testCarriers.filter((c) => c.group.startsWith('agentdojo:') || c.group.startsWith('records:'));
    expect(sharedSections.filter((c) => trainCarrierGroups.has(c.group))).toEqual([]);
    const trainTexts = new Set([...data.attacks, ...data.carriers].map((x) => x.text));
    expect(testAttacks.filter((a) => trainTexts.has(a.text)).map((a) => a.group)).toEqual([]);
  });
});
