import { matchesGlob, type AgentPolicy, type CompiledPolicy } from '@tollgate/core';

export interface PolicyFacts {
  policyId: string;
  version: number;
  name: string;
  rules: number;
  /** Enforced STEP_UP rules that can hold this agent's calls (no `match.agents`, or one naming it). */
  stepUpRules: string[];
  /** Agent patterns of the policy that apply to this agent and approve every tool (`*`, `**`, `?*`, …). */
  wildcardScopes: string[];
  /** `pattern: mode` of the entries whose pinned step_up/progressive mode is the one this agent gets. */
  stepUpModes: string[];
}

/** The active policy as the compliance service reads it. */
export interface ActivePolicy { policyId: string; version: number; policy: CompiledPolicy }

/**
 * Names no real tool has: the policy's own compiled scope of the agent accepting all of them means it approves
 * every tool. Kept beside the structural test below, which also catches `??*` (it refuses a one-character name).
 */
const PROBE_TOOL_NAMES = ['z', '\u0000', `\u0000tollgate-compliance-probe-${'x'.repeat(64)}\u0000`];

/**
 * What the enforcement_policy and human_oversight checks need from the active policy, for one agent known by
 * several keys (its numeric id and its name).
 *
 * @example
 * const facts = policyFacts(active, ['12', 'support-bot']);
 * facts.wildcardScopes // ['support-*'] when that entry has approvedScope: ['?*']
 */
export function policyFacts(active: ActivePolicy, agentKeys: readonly string[]): PolicyFacts {
  const document = active.policy.document;
  const appliesToAgent = (patterns: readonly string[] | undefined) => patterns === undefined
    || patterns.some((pattern) => agentKeys.some((key) => matchesGlob(pattern, key)));
  const applying = Object.entries(document.agents).filter(([pattern]) => appliesToAgent([pattern]));
  const wildcardEntries = applying.filter(([, settings]) => settings.approvedScope?.some(approvesEveryName)).map(([pattern]) => pattern);
  const effectiveScopeIsOpen = agentKeys.some((key) => {
    const scope = active.policy.agent(key).scope;
    return scope !== null && PROBE_TOOL_NAMES.every((name) => scope(name));
  });
  return {
    policyId: active.policyId, version: active.version, name: document.name, rules: document.rules.length,
    stepUpRules: document.rules
      .filter((rule) => rule.mode === 'enforce' && rule.effect === 'STEP_UP' && appliesToAgent(rule.match.agents))
      .map((rule) => rule.id),
    wildcardScopes: wildcardEntries.length === 0 && effectiveScopeIsOpen ? effectiveScopePatterns(applying) : wildcardEntries,
    stepUpModes: effectiveModeEntries(applying, agentKeys)
      .filter(([, settings]) => settings.enforcement === 'step_up' || settings.enforcement === 'progressive')
      .map(([pattern, settings]) => `${pattern}: ${settings.enforcement}`),
  };
}

type Entry = readonly [string, AgentPolicy];

/** The policy's order of precedence (core `CompiledPolicy`): exact ids, then globs in document order, then `*`. */
function byPrecedence(entries: readonly Entry[]): Entry[] {
  const rank = (pattern: string): number => (pattern === '*' ? 2 : Number(/[*?]/.test(pattern)));
  return [...entries].sort(([a], [b]) => rank(a) - rank(b));
}

/**
 * The entry whose pinned mode each key gets: an entry that applies but is overridden by a more specific one
 * (`*: step_up` under `bot: { enforcement: block }`) puts no person in the loop for this agent.
 */
function effectiveModeEntries(applying: readonly Entry[], agentKeys: readonly string[]): Entry[] {
  const ordered = byPrecedence(applying);
  const chosen = new Set<Entry>();
  for (const key of agentKeys) {
    const entry = ordered.find(([pattern, settings]) => settings.enforcement !== undefined && matchesGlob(pattern, key));
    if (entry) chosen.add(entry);
  }
  return [...chosen];
}

/** Patterns of the entries that give the effective scope (for the evidence when only the probes caught it). */
function effectiveScopePatterns(applying: readonly Entry[]): string[] {
  const entry = byPrecedence(applying).find(([, settings]) => settings.approvedScope !== undefined);
  return entry ? [entry[0]] : [];
}

/**
 * True for a scope pattern that matches every tool name at least as long as its `?`s: made only of `*` and `?`,
 * with at least one `*` (`*`, `**`, `?*`, `*?*`). Checking for the literal `'*'` let these through.
 *
 * @example
 * approvesEveryName('?*') // true
 * approvesEveryName('read_*') // false
 */
export function approvesEveryName(pattern: string): boolean {
  return pattern.includes('*') && /^[*?]+$/.test(pattern);
}
