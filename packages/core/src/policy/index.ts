// Public surface of the policy language. Internal helpers (source maps, the CEL environment,
// the rule runner) stay private: callers go through load → compile → evaluate.
export type {
  AgentPolicy, DataFlowSource, Decision, EnforcementMode, EvaluationInput, EvaluationResult, PolicyDiagnostic,
  PolicyDocument, PolicyRule, RateLimitScope, RuleError, RuleStage, SafetyInput, SequenceScope, Severity, ShadowHit,
} from './types.js';
export { ENFORCEMENT_MODES, MAX_AGENT_SEQUENCE_WINDOW_MS, MAX_AGENT_VIOLATIONS, SEQUENCE_SCOPES, SEVERITIES } from './types.js';
export { parsePolicySource, parsePolicySourceData, parsedSourceFromData } from './source.js';
/** The policy language's globs (`*` any run, `?` one character), matched in linear time. */
export { isGlob, matchesGlob } from './glob.js';
export type { ParsedSource, ParsedSourceData, SourceMap, SourcePosition } from './source.js';
export {
  validatePolicy, DEFAULT_PROGRESSIVE_BLOCK_AFTER, DEFAULT_DATA_FLOW_MIN_LENGTH, DEFAULT_RULE_SEVERITY,
} from './validate.js';
export { compilePolicy, compilePolicyAsync, loadPolicy, loadPolicyAsync, CompiledPolicy, MAX_CONDITION_COST, RULES_PER_PAUSE } from './compile.js';
export type { CompileResult } from './compile.js';
export { evaluatePolicy, rateLimitKey, rateLimitKeyExpiry } from './evaluate.js';
export type { EvaluationState } from './evaluate.js';
export { evaluateOutput, outputTaintEntries, recordOutputTaints } from './output.js';
export type { OutputInput, OutputResult } from './output.js';
export { applyMode, strongest } from './modes.js';
export {
  createSessionState, recordCall, recordCallInPlace, recordTaints, recordLabeledTaintsInPlace, serializeSessionState, deserializeSessionState,
  DEFAULT_MAX_TAINTS_PER_SESSION, DEFAULT_MAX_TOOLS_PER_SESSION,
} from './session-state.js';
export type { LabeledTaintEntry, SessionState, SerializedSessionState } from './session-state.js';
export {
  createAgentHistory, recordAgentCall, recordAgentViolation, agentViolationsSince, serializeAgentHistory, deserializeAgentHistory, DEFAULT_MAX_AGENT_HISTORY_TOOLS,
} from './agent-history.js';
export type { AgentHistory, SerializedAgentHistory } from './agent-history.js';
export type { CallHistoryLimits } from './call-history.js';
export { normalizeValue, sha256Fingerprint, DEFAULT_SCAN_LIMITS, createAgentTaints, recordAgentTaints, scanForAgentTaints, MAX_AGENT_TAINTS } from './data-flow.js';
export type { Fingerprint, AgentTaints, AgentFlowScan } from './data-flow.js';
export { actionHash } from './action-hash.js';
export type { HeldAction } from './action-hash.js';
export { parseDuration } from './duration.js';
export { parsePolicyTestCases, runPolicyTests, POLICY_TEST_START } from './policy-tests.js';
export type { PolicyTestCase, PolicyTestCall, PolicyTestResult, PolicyTestFailure } from './policy-tests.js';
