// Public surface of this package; filled by its issue.
export {};

// SecureAgent client for sandboxed agents (seed 004). Internal helpers (HTTP client, SSE parser) stay out.
export {
  SecureAgent, SDKError, PERMISSION_PRESETS, PERMISSION_SCOPES, DEFAULT_AGENT_NAME, DEFAULT_PERMISSION_TIMEOUT_MS,
  AUDIT_STREAM_PATH,
} from './secure-agent/index.js';
export type {
  SecureAgentOptions, SecureAgentLimits, SandboxTemplateName, ComplianceFramework, AgentRecord, ExecutionResponse,
  ExecutionResult, HostCallAuditEntry, RunInput, AuditLogQuery, PermissionRequestOptions, PermissionRequestRecord,
  CredentialInput, CredentialRecord, SecureAgentErrorCode, PermissionScope, PermissionPresetName,
  AuditStreamHandle, AuditStreamOptions, AuditEventHandler,
} from './secure-agent/index.js';
