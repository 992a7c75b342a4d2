import type { Decision, EnforcementMode } from '@tollgate/core';

/** POST /v1/enforce body (docs/wire-contract.md), after schema validation. */
export interface EnforceRequest {
  agentId: string;
  tenantId?: string | undefined;
  userId?: string | undefined;
  sessionId?: string | undefined;
  toolName: string;
  arguments?: unknown;
  enforcement?: EnforcementMode | undefined;
  approvedScope?: string[] | undefined;
  callId?: string | undefined;
  /** Token of an approved hold for exactly this call: the call is allowed once. */
  holdToken?: string | undefined;
}

export interface EnforceResponse {
  decision: Decision;
  reason: string;
  decisionId: string;
  violationId: string | null;
  holdToken: string | null;
  holdExpiresAt: string | null;
  matchedRules: string[];
  policyVersion: number | null;
  wouldHaveBeen: Decision | null;
  captureOutput: boolean;
  mode: EnforcementMode;
}

/** POST /v1/enforce/output body. */
export interface OutputRequest {
  decisionId?: string | undefined;
  sessionId?: string | undefined;
  agentId: string;
  toolName: string;
  output?: unknown;
}

export interface OutputResponse {
  decision: 'ALLOW' | 'BLOCK';
  reason: string;
  violationId: string | null;
}

/** The content-safety scanner as the enforcer uses it (`@tollgate/core` safety `createSafetyScanner`). */
export interface SafetyScannerLike {
  scan(text: string, direction: 'input' | 'output' | 'tool_output'): {
    scores: { injection: number; toxicity: number };
    findings: readonly unknown[];
  };
}

/** Ledger append as the enforcement area uses it (`services.ledger.append`). */
export type EnforcementLedgerAppend = (tenantId: string, entry: {
  type: string; actor?: string | null; agentId?: string; sessionId?: string; isViolation?: boolean; data: unknown;
}) => Promise<unknown>;

/** Default session id when the SDK sends none: one session per agent. */
export function defaultSessionId(agentId: string): string {
  return `${agentId}:default`;
}
