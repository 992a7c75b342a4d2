/**
 * Enumerations shared with the seed SDK (`@atensec/thoth`). They are `const` objects plus
 * string-literal union types, so both `EnforcementMode.BLOCK` and the plain string `"block"` work.
 */

/**
 * How the SDK reacts to the enforcer's decision.
 * @example
 * instrument(agent, { agentId: 'a', enforcement: EnforcementMode.OBSERVE });
 */
export const EnforcementMode = {
  OBSERVE: 'observe',
  STEP_UP: 'step_up',
  BLOCK: 'block',
  PROGRESSIVE: 'progressive',
} as const;
export type EnforcementMode = (typeof EnforcementMode)[keyof typeof EnforcementMode];

/** The enforcer's verdict for one tool call. */
export const DecisionType = {
  ALLOW: 'ALLOW',
  STEP_UP: 'STEP_UP',
  BLOCK: 'BLOCK',
} as const;
export type DecisionType = (typeof DecisionType)[keyof typeof DecisionType];

/** Kinds of behavioural events the SDK emits. */
export const EventType = {
  TOOL_CALL_PRE: 'TOOL_CALL_PRE',
  TOOL_CALL_POST: 'TOOL_CALL_POST',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** Where an event came from. The SDK always sends `SDK`. */
export const SourceType = {
  SDK: 'SDK',
  SANDBOX: 'SANDBOX',
  API: 'API',
} as const;
export type SourceType = (typeof SourceType)[keyof typeof SourceType];

/** How arguments and results are put into events. */
export const Redaction = {
  FULL: 'full',
  HASHED: 'hashed',
  NONE: 'none',
} as const;
export type Redaction = (typeof Redaction)[keyof typeof Redaction];

/** True when `value` names a known enforcement mode. */
export function isEnforcementMode(value: unknown): value is EnforcementMode {
  return Object.values(EnforcementMode).includes(value as EnforcementMode);
}
