import type { CompileResult, PolicyRule } from '@tollgate/core';

/** One line of a unified-style diff. */
export interface DiffLine {
  op: ' ' | '+' | '-';
  text: string;
}

export interface PolicyDiff {
  rules: { added: string[]; removed: string[]; changed: string[] };
  agents: { added: string[]; removed: string[]; changed: string[] };
  lines: DiffLine[];
}

/** Above this many lines per side the line diff degrades to "all removed, all added" (LCS is quadratic). */
export const MAX_DIFF_LINES = 3_000;

/**
 * Compares two policy sources, each with its `loadPolicy` result (e.g. from `PolicyLoader`, off the event loop):
 * rules and agents by id (added, removed, changed), plus a line diff.
 *
 * @example
 * diffLoadedPolicies(a, b, await loader.load(a), await loader.load(b)).rules.added // ['no-email-outside']
 */
export function diffLoadedPolicies(before: string, after: string, loadedBefore: CompileResult, loadedAfter: CompileResult): PolicyDiff {
  const a = documentOf(loadedBefore);
  const b = documentOf(loadedAfter);
  return {
    rules: compareKeyed(new Map(a.rules.map((rule) => [rule.id, rule])), new Map(b.rules.map((rule) => [rule.id, rule]))),
    agents: compareKeyed(new Map(Object.entries(a.agents)), new Map(Object.entries(b.agents))),
    lines: diffLines(before.split('\n'), after.split('\n')),
  };
}

function documentOf(loaded: CompileResult): { rules: readonly PolicyRule[]; agents: Record<string, unknown> } {
  return loaded.ok ? { rules: loaded.policy.document.rules, agents: { ...loaded.policy.document.agents } } : { rules: [], agents: {} };
}

function compareKeyed(before: Map<string, unknown>, after: Map<string, unknown>): PolicyDiff['rules'] {
  const added = [...after.keys()].filter((key) => !before.has(key));
  const removed = [...before.keys()].filter((key) => !after.has(key));
  const changed = [...after.keys()].filter((key) => before.has(key) && JSON.stringify(before.get(key)) !== JSON.stringify(after.get(key)));
  return { added, removed, changed };
}

/** Longest-common-subsequence line diff. */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  if (a.length > MAX_DIFF_LINES || b.length > MAX_DIFF_LINES) {
    return [...a.map((text) => ({ op: '-' as const, text })), ...b.map((text) => ({ op: '+' as const, text }))];
  }
  const width = b.length + 1;
  const table = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      table[i * width + j] = a[i] === b[j] ? (table[(i + 1) * width + j + 1] ?? 0) + 1
        : Math.max(table[(i + 1) * width + j] ?? 0, table[i * width + j + 1] ?? 0);
    }
  }
  const lines: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) { lines.push({ op: ' ', text: a[i] ?? '' }); i += 1; j += 1; }
    else if ((table[(i + 1) * width + j] ?? 0) >= (table[i * width + j + 1] ?? 0)) { lines.push({ op: '-', text: a[i] ?? '' }); i += 1; }
    else { lines.push({ op: '+', text: b[j] ?? '' }); j += 1; }
  }
  while (i < a.length) lines.push({ op: '-', text: a[i++] ?? '' });
  while (j < b.length) lines.push({ op: '+', text: b[j++] ?? '' });
  return lines;
}
