// The seed README's "TypeScript types" snippet, as written; only the package name is changed.
// Added (marked): a use of each name so the file does something.
import type {
  ThothConfig,
  BehavioralEvent,
  EnforcementDecision,
} from "@tollgate/sdk";
import {
  EnforcementMode,
  DecisionType,
  EventType,
  SourceType,
} from "@tollgate/sdk";

export const config: ThothConfig = { agentId: "typed-agent", enforcement: EnforcementMode.STEP_UP }; // added
export const isBlock = (decision: EnforcementDecision) => decision.decision === DecisionType.BLOCK; // added
export const isPre = (event: BehavioralEvent) => event.eventType === EventType.TOOL_CALL_PRE && event.sourceType === SourceType.SDK; // added
