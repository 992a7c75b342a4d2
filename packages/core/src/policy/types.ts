/**
 * Types of the Tollgate policy language: the document a human writes, the input of one
 * evaluation and the decision that comes back. See docs/policy-language.md.
 */

/** The three decisions, strongest last: deny overrides (BLOCK > STEP_UP > ALLOW). */
export type Decision = 'ALLOW' | 'STEP_UP' | 'BLOCK';

/** Enforcement modes of seed 000: how a policy verdict becomes the decision the agent sees. */
export type EnforcementMode = 'observe' | 'block' | 'step_up' | 'progressive';

export const ENFORCEMENT_MODES: readonly EnforcementMode[] = ['observe', 'block', 'step_up', 'progressive'];

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/** Who a rate limit counts for. */
export type RateLimitScope = 'agent' | 'session' | 'user';

/** When a rule runs: before the tool (`call`, default) or on the tool's output (`output`). */
export type RuleStage = 'call' | 'output';

export interface RuleMatch {
  /** Agent ids or globs; absent means every agent. */
  readonly agents?: readonly string[];
  /** Tool names or globs; absent means every tool. */
  readonly tools?: readonly string[];
  /** User ids or globs; absent means every user. */
  readonly users?: readonly string[];
}

/**
 * Whose history a sequence condition reads: the call's session (default), or every session of the agent, so an
 * agent cannot shake off its history by naming a new session id for each call.
 */
export type SequenceScope = 'session' | 'agent';

export const SEQUENCE_SCOPES: readonly SequenceScope[] = ['session', 'agent'];

/** Sequence condition: an earlier call in the same session (or, `across: agent`, by the same agent) must have happened. */
export interface RuleAfter {
  /** Tool names or globs of the earlier call. */
  readonly tools: readonly string[];
  /**
   * Only earlier calls within this window count (milliseconds); absent means the whole session. Required with
   * `across: agent` (an agent's history has no natural end), at most {@link MAX_AGENT_SEQUENCE_WINDOW_MS}.
   */
  readonly withinMs?: number;
  /** Absent means `session`. */
  readonly across?: SequenceScope;
}

/** Longest `within` of an agent-wide sequence condition: 30 days (what the server keeps of an agent's history). */
export const MAX_AGENT_SEQUENCE_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

/** Data-flow condition: the call's arguments carry a value returned earlier by a sensitive tool. */
export interface RuleDataFlow {
  /** Labels of `dataFlow.sources` whose values must not flow here; absent means any label. */
  readonly labels?: readonly string[];
  /**
   * Where remembered values come from: outputs of the call's session (default), or with `agent` outputs returned to
   * the agent in any of its sessions within `withinMs`.
   */
  readonly across?: SequenceScope;
  /** With `across: agent`: values returned longer ago than this do not count (required, at most 30 days). */
  readonly withinMs?: number;
}

export interface RuleRateLimit {
  readonly count: number;
  readonly windowMs: number;
  readonly per: RateLimitScope;
}

export interface PolicyRule {
  readonly id: string;
  readonly description?: string;
  readonly match: RuleMatch;
  /** CEL condition over tool, args, agent, user, session, time, safety (and output for output rules). */
  readonly when?: string;
  readonly after?: RuleAfter;
  readonly dataFlow?: RuleDataFlow;
  readonly rateLimit?: RuleRateLimit;
  readonly effect: Decision;
  readonly reason: string;
  readonly severity: Severity;
  /** `shadow` records what the rule would have done and changes nothing. */
  readonly mode: 'enforce' | 'shadow';
  readonly stage: RuleStage;
}

/** A tool whose output is sensitive: its returned values are remembered (as hashes) in the session. */
export interface DataFlowSource {
  /** Tool names or globs. */
  readonly tools: readonly string[];
  /** Label that data-flow rules refer to, e.g. `customer_pii`. */
  readonly label: string;
  /** Dotted paths inside the output to remember; absent means every string and number leaf. */
  readonly fields?: readonly string[];
  /** Shorter normalized values are not remembered (too likely to collide); default 4. */
  readonly minLength: number;
}

export interface AgentPolicy {
  /** Tool names and globs the agent may call. */
  readonly approvedScope?: readonly string[];
  /** Pins the enforcement mode, whatever the SDK asks for. */
  readonly enforcement?: EnforcementMode;
}

export interface ProgressiveSettings {
  /**
   * The n-th violation (1-based) and every later one is BLOCKed; earlier ones STEP_UP. Default 2. Counted in the
   * session, or with `across: agent` over all of the agent's sessions within `withinMs`.
   */
  readonly blockAfter: number;
  /** Where violations are counted: the call's session (default) or every session of the agent. */
  readonly across?: SequenceScope;
  /** With `across: agent`: violations older than this do not count (required, at most 30 days). */
  readonly withinMs?: number;
}

/**
 * Most violations remembered per agent (the most recent), and so the largest `progressive.blockAfter` an
 * agent-wide count can use.
 */
export const MAX_AGENT_VIOLATIONS = 1_000;

export interface PolicyDocument {
  readonly name: string;
  readonly description?: string;
  /** Agent id (or glob, or `*`) → its scope and pinned mode. */
  readonly agents: Readonly<Record<string, AgentPolicy>>;
  readonly rules: readonly PolicyRule[];
  readonly dataFlowSources: readonly DataFlowSource[];
  readonly progressive: ProgressiveSettings;
}

/** Content-safety scores supplied by the caller (the safety scanner); rules read them as `safety`. */
export interface SafetyInput {
  readonly injection: number;
  readonly toxicity: number;
  readonly findings: readonly unknown[];
}

/** One governed tool call, as /v1/enforce receives it. */
export interface EvaluationInput {
  readonly agentId: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly toolName: string;
  readonly arguments: unknown;
  /** Mode the SDK asked for; a mode pinned by the policy wins. */
  readonly enforcement: EnforcementMode;
  /** Scope the SDK declared; intersected with the policy's scope when both exist. */
  readonly approvedScope?: readonly string[];
  /** Epoch milliseconds of the call. */
  readonly now: number;
  readonly safety?: SafetyInput;
}

export interface ShadowHit {
  readonly ruleId: string;
  readonly effect: Decision;
  readonly reason: string;
}

export interface EvaluationResult {
  /** What the agent must do. */
  readonly decision: Decision;
  readonly reason: string;
  /** Mode actually applied (the policy may pin one). */
  readonly mode: EnforcementMode;
  /** Verdict of the policy before the mode was applied. */
  readonly verdict: Decision;
  /** In observe mode: what block mode would have decided; otherwise null. */
  readonly wouldHaveBeen: Decision | null;
  /** True when the verdict came from a violation (out of scope, BLOCK rule, no policy, limit). */
  readonly violation: boolean;
  readonly severity: Severity | null;
  /** Ids of enforcing rules whose conditions held (in document order). */
  readonly matchedRules: readonly string[];
  readonly shadow: readonly ShadowHit[];
  /** Conditions that failed at run time; each counted as a match of its rule (fail closed). */
  readonly errors: readonly RuleError[];
  /** The SDK should send the tool's output to /v1/enforce/output. */
  readonly captureOutput: boolean;
  /** Rate-limit counter keys this call increments (the caller persists them). */
  readonly rateLimitKeys: readonly string[];
}

export interface RuleError {
  readonly ruleId: string;
  readonly message: string;
}

/** A diagnostic from parsing, validating or compiling a policy, with a 1-based source position. */
export interface PolicyDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly message: string;
  /** Path inside the document, e.g. `rules[2].when`. */
  readonly path: string;
  readonly line: number;
  readonly column: number;
}
