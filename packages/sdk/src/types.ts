import type { DecisionType, EventType, Redaction, SourceType } from './enums.js';

/** The enforcer's answer to `POST /v1/enforce` (see docs/wire-contract.md). */
export interface EnforcementDecision {
  decision: DecisionType;
  reason: string;
  decisionId: string | null;
  violationId: string | null;
  holdToken: string | null;
  holdExpiresAt: string | null;
  matchedRules: string[];
  policyVersion: number | null;
  wouldHaveBeen: DecisionType | null;
  captureOutput: boolean;
  mode: string;
}

/** Outcome recorded on a TOOL_CALL_POST event. */
export type ToolCallOutcome = 'success' | 'error' | 'blocked';

/** One behavioural event as sent to `POST /v1/events/batch`. */
export interface BehavioralEvent {
  eventId: string;
  eventType: EventType;
  sourceType: SourceType;
  agentId: string;
  tenantId?: string;
  userId: string;
  sessionId: string;
  toolName: string;
  callId: string;
  decisionId?: string;
  timestamp: string;
  durationMs?: number;
  outcome?: ToolCallOutcome;
  arguments?: unknown;
  result?: unknown;
  redaction: Redaction;
  error?: string;
}

/** Body of `POST /v1/enforce`. */
export interface EnforceRequest {
  agentId: string;
  tenantId?: string;
  userId: string;
  sessionId: string;
  toolName: string;
  arguments: unknown;
  enforcement: string;
  approvedScope: string[];
  callId: string;
  /** An approved step-up hold being redeemed for this exact call. */
  holdToken?: string;
}

/** Body of `POST /v1/enforce/output`'s answer. */
export interface OutputDecision {
  decision: 'ALLOW' | 'BLOCK';
  reason: string;
  violationId: string | null;
}

/** Answer of `GET /v1/enforce/hold/{token}`. */
export interface HoldStatus {
  status: 'pending' | 'approved' | 'denied' | 'expired';
  decision: DecisionType | null;
  reason: string;
  approver: string | null;
  comment: string | null;
  expiresAt: string;
}

/** Answer of `POST /v1/events/batch`. */
export interface EventBatchResult {
  accepted: number;
  duplicates: number;
}
