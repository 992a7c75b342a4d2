// Public surface of the SecureAgent client (re-exported from the package root).
export { SecureAgent, AGENTS_PATH, EXECUTIONS_PATH, CREDENTIALS_PATH, AUDIT_PATHS } from './secure-agent.js';
export { SDKError } from './sdk-error.js';
export { COMPLIANCE_FRAMEWORKS } from './compliance.js';
export type { SecureAgentErrorCode } from './sdk-error.js';
export { PERMISSION_PRESETS, PERMISSION_SCOPES } from './permission-presets.js';
export type { PermissionScope, PermissionPresetName } from './permission-presets.js';
export { DEFAULT_API_URL, DEFAULT_REQUEST_TIMEOUT_MS } from './http-client.js';
export { DEFAULT_AGENT_NAME, DEFAULT_AGENT_VERSION, DEFAULT_SANDBOX_TEMPLATE } from './agent-config.js';
export { DEFAULT_PERMISSION_TIMEOUT_MS } from './permission-wait.js';
export { AUDIT_STREAM_PATH, DEFAULT_RECONNECT_DELAY_MS } from './audit-stream.js';
export type { AuditStreamHandle, AuditStreamOptions, AuditEventHandler } from './audit-stream.js';
export { SseParser } from './sse-parser.js';
export type { SseEvent } from './sse-parser.js';
export type {
  SecureAgentOptions, SecureAgentLimits, SandboxTemplateName, ComplianceFramework, AgentRecord, ExecutionResponse,
  ExecutionResult, HostCallAuditEntry, RunInput, AuditLogQuery, PermissionRequestOptions, PermissionRequestRecord,
  RequestedPermissions, CredentialInput, CredentialRecord,
  ComplianceStatus, ComplianceReport, ComplianceEvidencePackage, ComplianceCheckResult, ComplianceControlResult,
  ComplianceControlStatus, ComplianceFrameworkLabel, ComplianceCheckpointEvidence, ComplianceVerification,
  FrameworkComplianceResult, EvidencePackageFormat, ComplianceReportFormat,
} from './types.js';
