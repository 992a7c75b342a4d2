import { compileCondition, createCelEnvironment } from './cel.js';
import type { CompiledCondition, VariableUse } from './cel.js';
import { MAX_STEPS_PER_CALL_UNIT } from './cel-cost.js';
import { compileNameMatcher } from './glob.js';
import { formatDuration } from './duration.js';
import type { NameMatcher } from './glob.js';
import { parsePolicySource } from './source.js';
import type { ParsedSource, SourceMap } from './source.js';
import type {
  AgentPolicy, DataFlowSource, EnforcementMode, PolicyDiagnostic, PolicyDocument, PolicyRule, RuleStage,
} from './types.js';
import { validatePolicy } from './validate.js';

/** One rule with everything it needs at evaluation time prepared once. */
export interface CompiledRule {
  readonly rule: PolicyRule;
  readonly matchesAgent: NameMatcher;
  readonly matchesUser: NameMatcher;
  readonly matchesAfter: NameMatcher | null;
  readonly condition: CompiledCondition | null;
  readonly uses: VariableUse;
}

/** Scope and pinned mode for one agent, each from the most specific `agents` entry that sets it (exact id, then globs, then `*`). */
export interface ResolvedAgent {
  readonly scope: NameMatcher | null;
  readonly enforcement: EnforcementMode | null;
}

/**
 * Budget for the estimated work of all conditions of a policy (see estimateCost), so one call can
 * never run for seconds: conditions run on the server's event loop with no time limit. Ordinary
 * policies use a few thousand steps; a 1 MB policy of plain conditions stays well below.
 */
export const MAX_CONDITION_COST = 200_000;

/** Per-name lookups are cached; a cache is dropped whole past this many names. */
const MAX_CACHED_NAMES = 10_000;

/** Everything evaluation needs to know about one tool name, resolved once and cached. */
export interface ToolPlan {
  readonly callRules: readonly CompiledRule[];
  readonly outputRules: readonly CompiledRule[];
  /** Variables the call-stage conditions read, so only those are built. */
  readonly uses: ReadonlySet<string>;
  readonly sources: readonly DataFlowSource[];
  /** The SDK should send the output back (data-flow source or output rules). */
  readonly captureOutput: boolean;
  /** Some call-stage rule has a data-flow condition with `across: agent`: evaluation needs `EvaluationState.agent.taints`. */
  readonly readsAgentTaints: boolean;
}

/**
 * A policy version ready for evaluation: rules are indexed by tool name (exact names and globs
 * resolved once per tool name and cached) and every CEL condition is parsed once.
 */
export class CompiledPolicy {
  private readonly plans = new Map<string, ToolPlan>();
  private readonly agentsById = new Map<string, ResolvedAgent>();
  private readonly toolMatchers: ReadonlyArray<readonly [CompiledRule, NameMatcher]>;
  private readonly sourceMatchers: ReadonlyArray<readonly [DataFlowSource, NameMatcher]>;
  private readonly agentPatterns: ReadonlyArray<readonly [NameMatcher, AgentPolicy]>;
  /**
   * Longest `within` of the sequence conditions with `after.across: agent`, of data-flow conditions with
   * `dataFlow.across: agent` and of agent-wide progressive escalation (`progressive.across: agent`) (0: none). Callers pass the agent's history (`EvaluationState.agent`) when it is
   * above 0, and a replay reads this far back before its start.
   */
  readonly agentHistoryWindowMs: number;
  /** Longest `within` of the sequence conditions with `after.across: agent` alone (0: none): how far back their calls matter. */
  readonly agentSequenceWindowMs: number;
  /**
   * Longest `within` of the data-flow conditions with `dataFlow.across: agent` (0: none): the values returned to the
   * agent in this window must be in `EvaluationState.agent.taints`.
   */
  readonly agentFlowWindowMs: number;
  /** How progressive mode's reason names the violations it counted: `in this session` or `of this agent within 1h`. */
  readonly progressiveCounted: string;
  /**
   * True for a tool some agent-wide sequence condition names (null: no such condition). Pass it to
   * `recordAgentCall` as `keep`, so flooding an agent's history with other tools cannot push these out.
   */
  readonly agentHistoryReads: NameMatcher | null;
  /** The same for session-scoped sequence conditions: `recordCall`'s `keep`. */
  readonly sessionHistoryReads: NameMatcher | null;

  /**
   * @param cost estimated CEL steps of one evaluation, all conditions together (at most
   *   MAX_CONDITION_COST), so callers that evaluate many calls in a row can pace themselves
   */
  constructor(
    readonly document: PolicyDocument, readonly version: number | null, rules: readonly CompiledRule[], readonly cost = 0,
  ) {
    this.toolMatchers = rules.map((rule) => [rule, compileNameMatcher(rule.rule.match.tools)] as const);
    const progressiveMs = document.progressive.across === 'agent' ? document.progressive.withinMs ?? 0 : 0;
    this.agentSequenceWindowMs = rules.reduce((longest, { rule }) => (rule.after?.across === 'agent' ? Math.max(longest, rule.after.withinMs ?? 0) : longest), 0);
    this.agentFlowWindowMs = rules.reduce((longest, { rule }) => (rule.dataFlow?.across === 'agent' ? Math.max(longest, rule.dataFlow.withinMs ?? 0) : longest), 0);
    this.agentHistoryWindowMs = Math.max(this.agentSequenceWindowMs, progressiveMs, this.agentFlowWindowMs);
    this.progressiveCounted = document.progressive.across === 'agent' ? `of this agent within ${formatDuration(progressiveMs)}` : 'in this session';
    this.agentHistoryReads = readsOf(rules, 'agent');
    this.sessionHistoryReads = readsOf(rules, 'session');
    this.sourceMatchers = document.dataFlowSources.map((source) => [source, compileNameMatcher(source.tools)] as const);
    // Exact ids, then globs in document order, then "*" whatever its place (as documented): written first,
    // "*" used to shadow every glob, so `contractor-*` with a narrow scope got the scope of "*".
    const rank = (pattern: string): number => (pattern === '*' ? 2 : Number(/[*?]/.test(pattern)));
    const exactFirst = Object.keys(document.agents).sort((a, b) => rank(a) - rank(b));
    this.agentPatterns = exactFirst.map((pattern) => [compileNameMatcher([pattern]), document.agents[pattern] ?? {}] as const);
  }

  /** The rules, variables and data-flow sources of one tool. */
  plan(toolName: string): ToolPlan {
    let plan = this.plans.get(toolName);
    if (plan === undefined) {
      const rules = this.toolMatchers.filter(([, matches]) => matches(toolName)).map(([rule]) => rule);
      const callRules = rules.filter((rule) => rule.rule.stage === 'call');
      const outputRules = rules.filter((rule) => rule.rule.stage === 'output');
      const sources = this.sourceMatchers.filter(([, matches]) => matches(toolName)).map(([source]) => source);
      const uses = new Set(callRules.flatMap((rule) => [...rule.uses]));
      const readsAgentTaints = callRules.some((rule) => rule.rule.dataFlow?.across === 'agent');
      plan = { callRules, outputRules, uses, sources, captureOutput: sources.length > 0 || outputRules.length > 0, readsAgentTaints };
      remember(this.plans, toolName, plan);
    }
    return plan;
  }

  /** Rules of a stage that can apply to a tool, in document order. */
  rulesFor(toolName: string, stage: RuleStage): readonly CompiledRule[] {
    const plan = this.plan(toolName);
    return stage === 'call' ? plan.callRules : plan.outputRules;
  }

  /** Data-flow sources whose tools include this one. */
  sourcesFor(toolName: string): readonly DataFlowSource[] {
    return this.plan(toolName).sources;
  }

  /** The agent's scope (memoized per tool) and pinned mode; null when the policy says nothing. */
  agent(agentId: string): ResolvedAgent {
    let resolved = this.agentsById.get(agentId);
    if (resolved === undefined) {
      // Each field from the most specific entry that sets it: an entry that only pins the mode keeps the scope of
      // the globs or "*" below it. Taking the whole first entry left such an agent without a policy scope, so the
      // caller's approvedScope (even ["*"]) decided what it may call.
      const matching = this.agentPatterns.filter(([matches]) => matches(agentId)).map(([, entry]) => entry);
      const scope = matching.find((entry) => entry.approvedScope !== undefined)?.approvedScope;
      resolved = {
        scope: scope ? memoize(compileNameMatcher(scope)) : null,
        enforcement: matching.find((entry) => entry.enforcement !== undefined)?.enforcement ?? null,
      };
      remember(this.agentsById, agentId, resolved);
    }
    return resolved;
  }

  /** True when the SDK should send this tool's output back (data-flow source or output rules). */
  capturesOutput(toolName: string): boolean {
    return this.plan(toolName).captureOutput;
  }

  /** True when a rule for this tool reads `safety`, so the caller should run the content scanner first. */
  needsSafety(toolName: string, stage: RuleStage = 'call'): boolean {
    return this.rulesFor(toolName, stage).some((rule) => rule.uses.has('safety'));
  }
}

/** True for a tool that some sequence condition of that scope names; null when there is none. */
function readsOf(rules: readonly CompiledRule[], scope: 'session' | 'agent'): NameMatcher | null {
  const matchers = rules.flatMap(({ rule, matchesAfter }) => ((rule.after?.across ?? 'session') === scope && matchesAfter ? [matchesAfter] : []));
  return matchers.length === 0 ? null : (toolName) => matchers.some((matches) => matches(toolName));
}

function memoize(matcher: NameMatcher): NameMatcher {
  const answers = new Map<string, boolean>();
  return (name) => {
    let answer = answers.get(name);
    if (answer === undefined) {
      answer = matcher(name);
      remember(answers, name, answer);
    }
    return answer;
  };
}

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= MAX_CACHED_NAMES) cache.clear();
  cache.set(key, value);
}

export type CompileResult =
  | { readonly ok: true; readonly policy: CompiledPolicy; readonly diagnostics: readonly PolicyDiagnostic[] }
  | { readonly ok: false; readonly diagnostics: readonly PolicyDiagnostic[] };

/**
 * Compiles a validated document. CEL errors come back as diagnostics at the exact line and column
 * when a source map is given.
 *
 * @example
 * const result = compilePolicy(document, { version: 3 });
 * if (result.ok) evaluatePolicy(result.policy, input, { session });
 */
export function compilePolicy(
  document: PolicyDocument,
  options: { version?: number | null; sourceMap?: SourceMap } = {},
): CompileResult {
  const steps = compileSteps(document, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Rules compiled between two pauses of {@link compilePolicyAsync} (~5 ms of CPU here). */
export const RULES_PER_PAUSE = 200;

/**
 * {@link compilePolicy} in slices of {@link RULES_PER_PAUSE} rules, awaiting `pause()` between them, so a caller on an
 * event loop (the server) lets other work run while a policy of thousands of rules compiles. Same result.
 *
 * @example
 * const result = await compilePolicyAsync(document, { pause: () => new Promise((resolve) => setImmediate(resolve)) });
 */
export async function compilePolicyAsync(
  document: PolicyDocument,
  options: { version?: number | null; sourceMap?: SourceMap; pause: () => Promise<void> },
): Promise<CompileResult> {
  const steps = compileSteps(document, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await options.pause();
  }
}

function* compileSteps(
  document: PolicyDocument,
  options: { version?: number | null; sourceMap?: SourceMap | undefined },
): Generator<void, CompileResult, void> {
  const env = createCelEnvironment();
  const diagnostics: PolicyDiagnostic[] = [];
  const rules: CompiledRule[] = [];
  let cost = 0;
  /** Steps per character of the call, over all conditions: each one is within MAX_STEPS_PER_CALL_UNIT alone. */
  let callCost = 0;
  for (const [index, rule] of document.rules.entries()) {
    if (index > 0 && index % RULES_PER_PAUSE === 0) yield;
    compileRule(rule, index);
  }
  function compileRule(rule: PolicyRule, index: number): void {
    let condition: CompiledCondition | null = null;
    let uses: VariableUse = new Set();
    if (rule.when !== undefined) {
      const compiled = compileCondition(env, rule.when);
      if ('error' in compiled) {
        const path = `rules[${index}].when`;
        const position = options.sourceMap?.positionInString(path, rule.when, compiled.error.offset) ?? { line: 1, column: 1 };
        diagnostics.push({ severity: 'error', code: 'POLICY_CEL', message: `rule ${rule.id}: ${compiled.error.message}`, path, ...position });
        return;
      }
      if (rule.stage === 'call' && compiled.uses.has('output')) {
        const path = `rules[${index}].when`;
        const position = options.sourceMap?.position(path) ?? { line: 1, column: 1 };
        diagnostics.push({ severity: 'error', code: 'POLICY_CEL', message: `rule ${rule.id}: output is only available to stage: output rules`, path, ...position });
        return;
      }
      cost += compiled.cost;
      if (cost > MAX_CONDITION_COST && cost - compiled.cost <= MAX_CONDITION_COST) {
        const path = `rules[${index}].when`;
        const position = options.sourceMap?.position(path) ?? { line: 1, column: 1 };
        diagnostics.push({
          severity: 'error', code: 'POLICY_CEL', path, ...position,
          message: `rule ${rule.id}: the conditions up to this rule cost about ${cost} evaluation steps per call (at most ${MAX_CONDITION_COST}); a comprehension runs its body once per element, and functions of strings and lists cost a step per 4 characters or elements they read or build`,
        });
        return;
      }
      callCost += compiled.callCost;
      if (callCost > MAX_STEPS_PER_CALL_UNIT && callCost - compiled.callCost <= MAX_STEPS_PER_CALL_UNIT) {
        const path = `rules[${index}].when`;
        const position = options.sourceMap?.position(path) ?? { line: 1, column: 1 };
        diagnostics.push({
          severity: 'error', code: 'POLICY_CEL', path, ...position,
          message: `rule ${rule.id}: the conditions up to this rule take about ${Math.ceil(callCost)} evaluation steps per character of the call (at most ${MAX_STEPS_PER_CALL_UNIT} for all conditions together); each reading of a string, list or map from the call counts, so a large call would stall the server`,
        });
        return;
      }
      condition = compiled.condition;
      uses = compiled.uses;
    }
    rules.push({
      rule, condition, uses,
      matchesAgent: compileNameMatcher(rule.match.agents),
      matchesUser: compileNameMatcher(rule.match.users),
      matchesAfter: rule.after ? compileNameMatcher(rule.after.tools) : null,
    });
  }
  if (diagnostics.length > 0) return { ok: false, diagnostics };
  return { ok: true, policy: new CompiledPolicy(document, options.version ?? null, rules, cost), diagnostics };
}

/**
 * Parses, validates and compiles policy text (YAML or JSON) in one step. This is what
 * `tollgate policy lint` runs: every problem comes back with its line and column. `parsed` is the text's
 * {@link parsePolicySource} result when it was parsed already (e.g. on another thread).
 *
 * @example
 * const result = loadPolicy(fs.readFileSync('policy.yaml', 'utf8'));
 * if (!result.ok) for (const d of result.diagnostics) console.log(`${d.line}:${d.column} ${d.message}`);
 */
export function loadPolicy(text: string, options: { version?: number | null; parsed?: ParsedSource } = {}): CompileResult {
  const parsed = options.parsed ?? parsePolicySource(text);
  if (parsed.value === undefined) return { ok: false, diagnostics: capDiagnostics(parsed.diagnostics) };
  const { document, diagnostics } = validatePolicy(parsed.value, parsed.sourceMap);
  if (!document) return { ok: false, diagnostics: capDiagnostics(byPosition([...parsed.diagnostics, ...diagnostics, ...conditionSyntax(parsed.value, parsed.sourceMap)])) };
  const compiled = compilePolicy(document, { ...options, sourceMap: parsed.sourceMap });
  const all = capDiagnostics([...parsed.diagnostics, ...diagnostics, ...compiled.diagnostics]);
  return compiled.ok ? { ...compiled, diagnostics: all } : { ok: false, diagnostics: all };
}

/**
 * {@link loadPolicy} with the compilation in slices (see {@link compilePolicyAsync}); parsing and validation run in one
 * go (parse elsewhere and pass `parsed` to keep a large parse off the caller's thread).
 *
 * @example
 * const result = await loadPolicyAsync(text, { pause: () => new Promise((resolve) => setImmediate(resolve)) });
 */
export async function loadPolicyAsync(text: string, options: { version?: number | null; parsed?: ParsedSource; pause: () => Promise<void> }): Promise<CompileResult> {
  const parsed = options.parsed ?? parsePolicySource(text);
  if (parsed.value === undefined) return { ok: false, diagnostics: capDiagnostics(parsed.diagnostics) };
  const { document, diagnostics } = validatePolicy(parsed.value, parsed.sourceMap);
  if (!document) return { ok: false, diagnostics: capDiagnostics(byPosition([...parsed.diagnostics, ...diagnostics, ...conditionSyntax(parsed.value, parsed.sourceMap)])) };
  const compiled = await compilePolicyAsync(document, { version: options.version ?? null, sourceMap: parsed.sourceMap, pause: options.pause });
  const all = capDiagnostics([...parsed.diagnostics, ...diagnostics, ...compiled.diagnostics]);
  return compiled.ok ? { ...compiled, diagnostics: all } : { ok: false, diagnostics: all };
}

/**
 * CEL errors of the `when` conditions of a document that failed validation (a bad `effect` elsewhere), so one lint
 * run reports every problem instead of the CEL ones only after the others are fixed.
 */
function conditionSyntax(value: unknown, sourceMap: SourceMap | undefined): PolicyDiagnostic[] {
  const rules = (value as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) return [];
  const env = createCelEnvironment();
  const found: PolicyDiagnostic[] = [];
  for (const [index, rule] of rules.slice(0, MAX_DIAGNOSTICS).entries()) {
    const when = (rule as { when?: unknown } | null)?.when;
    if (typeof when !== 'string') continue;
    const compiled = compileCondition(env, when);
    if (!('error' in compiled)) continue;
    const path = `rules[${index}].when`;
    const position = sourceMap?.positionInString(path, when, compiled.error.offset) ?? { line: 1, column: 1 };
    const id = (rule as { id?: unknown }).id;
    found.push({ severity: 'error', code: 'POLICY_CEL', message: `rule ${typeof id === 'string' ? id : `#${index + 1}`}: ${compiled.error.message}`, path, ...position });
  }
  return found;
}

/** Diagnostics in the order of the file. */
function byPosition(diagnostics: readonly PolicyDiagnostic[]): PolicyDiagnostic[] {
  return [...diagnostics].sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Most diagnostics loadPolicy returns: 1 MB of `[1,1,…]` as rules gave 260,000 (tens of MB in a lint answer). */
export const MAX_DIAGNOSTICS = 200;

function capDiagnostics(diagnostics: readonly PolicyDiagnostic[]): readonly PolicyDiagnostic[] {
  if (diagnostics.length <= MAX_DIAGNOSTICS) return diagnostics;
  const kept = diagnostics.slice(0, MAX_DIAGNOSTICS);
  const last = kept[kept.length - 1];
  const more = diagnostics.length - MAX_DIAGNOSTICS;
  return [...kept, {
    severity: diagnostics.slice(MAX_DIAGNOSTICS).some((diagnostic) => diagnostic.severity === 'error') ? 'error' : 'warning',
    code: 'POLICY_TOO_MANY_DIAGNOSTICS', message: `${more} more diagnostics not shown`, path: '',
    line: last?.line ?? 1, column: last?.column ?? 1,
  }];
}
