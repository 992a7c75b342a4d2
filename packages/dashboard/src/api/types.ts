/** Response shapes the dashboard reads. Kept loose (optional fields) where areas differ. */

export type Decision = 'ALLOW' | 'STEP_UP' | 'BLOCK';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface OverviewBucket {
  start: string;
  calls: number;
  allow: number;
  block: number;
  stepUp: number;
  violations: number;
}

export interface Overview {
  from: string;
  to: string;
  bucketMs: number;
  buckets: OverviewBucket[];
  totals: { calls: number; allow: number; block: number; stepUp: number; violations: number };
  pendingApprovals: number;
  agents: number;
}

export interface SessionSummary {
  sessionId: string;
  agentId: string;
  userId: string | null;
  calls: number;
  blocked: number;
  firstAt: string;
  lastAt: string;
}

export interface ToolCall {
  callId: string;
  sessionId: string;
  agentId: string;
  userId: string | null;
  toolName: string;
  decision: Decision | null;
  reason: string | null;
  violationId: string | null;
  outcome: string | null;
  durationMs: number | null;
  arguments: unknown;
  redaction: string | null;
  error: string | null;
  decisionId: string | null;
  timestamp: string;
}

export interface ApprovalItem {
  kind: 'hold' | 'permission_request';
  id: string;
  status: string;
  agentId: string;
  sessionId?: string | null;
  userId?: string | null;
  toolName?: string | null;
  arguments?: unknown;
  permissions?: unknown;
  justification?: string | null;
  actionHash?: string | null;
  reason?: string | null;
  createdAt: string;
  expiresAt?: string | null;
  approver?: string | null;
  comment?: string | null;
  decidedAt?: string | null;
}
