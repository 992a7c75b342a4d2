import type { HoldRecord } from '../../store/repositories/holds.js';
import { HOLD_CHANNEL } from '../holds/hold-service.js';
import type { HoldMessage, HoldService } from '../holds/hold-service.js';
import type { ApprovalItem, ApprovalSource } from './approval-service.js';

function holdItem(hold: HoldRecord): ApprovalItem {
  return {
    kind: 'hold', id: hold.id, status: hold.status, agentId: hold.agentId, toolName: hold.toolName, arguments: hold.arguments,
    reason: hold.reason, createdAt: new Date(hold.createdAt).toISOString(), expiresAt: new Date(hold.expiresAt).toISOString(),
    approver: hold.approver, comment: hold.comment, userId: hold.userId, sessionId: hold.sessionId, actionHash: hold.actionHash,
    decisionId: hold.decisionId,
  };
}

/**
 * Step-up holds as an approval source.
 *
 * @example
 * approvals.register(holdApprovalSource(holds));
 */
export function holdApprovalSource(holds: HoldService): ApprovalSource {
  return {
    kind: 'hold',
    channel: HOLD_CHANNEL,
    owns: (id) => id.startsWith('hold_'),
    list: async (tenantId, status) => (await holds.list(tenantId, status)).map(holdItem),
    approve: async (tenantId, id, decision) => holdItem(await holds.approve(tenantId, id, decision)),
    deny: async (tenantId, id, decision) => holdItem(await holds.deny(tenantId, id, decision)),
    toEvent: (payload) => {
      const message = payload as HoldMessage;
      return typeof message?.tenantId === 'string' ? { tenantId: message.tenantId, id: message.holdId, status: message.status } : null;
    },
  };
}

/** The subset of the sandbox's PermissionRequestService the approvals queue needs. */
export interface PermissionRequestsLike {
  list(tenantId: string, status?: 'pending' | 'approved' | 'denied' | 'expired'): Promise<Array<PermissionRequestViewLike>>;
  approve(tenantId: string, id: number, decision: { approver?: string | null; comment?: string | null }): Promise<PermissionRequestViewLike>;
  deny(tenantId: string, id: number, decision: { approver?: string | null; comment?: string | null }): Promise<PermissionRequestViewLike>;
}

export interface PermissionRequestViewLike {
  id: number;
  agent_id: number;
  status: 'pending' | 'approved' | 'denied' | 'expired';
  permissions: Record<string, unknown>;
  justification: string | null;
  created_at: string;
  expires_at: string;
  decided_by: string | null;
  comment: string | null;
}

const PERMISSION_PREFIX = 'perm_';

function permissionItem(request: PermissionRequestViewLike): ApprovalItem {
  return {
    kind: 'permission_request', id: `${PERMISSION_PREFIX}${request.id}`, status: request.status, agentId: String(request.agent_id),
    reason: request.justification ?? 'permission request', createdAt: request.created_at, expiresAt: request.expires_at,
    approver: request.decided_by, comment: request.comment, permissions: request.permissions,
  };
}

function numericId(id: string): number {
  return Number(id.slice(PERMISSION_PREFIX.length));
}

/**
 * Sandbox permission requests (seed 004) as an approval source: ids are `perm_<n>`.
 *
 * @example
 * approvals.register(permissionRequestApprovalSource(services.permissionRequests, 'permission-request'));
 */
export function permissionRequestApprovalSource(requests: PermissionRequestsLike, channel: string): ApprovalSource {
  return {
    kind: 'permission_request',
    channel,
    owns: (id) => id.startsWith(PERMISSION_PREFIX) && /^\d+$/.test(id.slice(PERMISSION_PREFIX.length)),
    list: async (tenantId, status) => (await requests.list(tenantId, status)).map(permissionItem),
    approve: async (tenantId, id, decision) => permissionItem(await requests.approve(tenantId, numericId(id), decision)),
    deny: async (tenantId, id, decision) => permissionItem(await requests.deny(tenantId, numericId(id), decision)),
    toEvent: (payload) => {
      const message = payload as { tenantId?: unknown; id?: unknown; status?: unknown } | null;
      if (typeof message?.tenantId !== 'string' || typeof message.id !== 'number') return null;
      return { tenantId: message.tenantId, id: `${PERMISSION_PREFIX}${message.id}`, status: String(message.status ?? 'pending') };
    },
  };
}
