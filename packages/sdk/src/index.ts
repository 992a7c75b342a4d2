// Public surface of @tollgate/sdk. Framework adapters also live at subpaths
// (`/anthropic`, `/openai`, `/langchain`, `/ai`, `/mcp`); the seed imports `wrapAnthropicTools` and
// `wrapOpenAITools` from the root too, so those two are re-exported here. Internals (HTTP client,
// event batcher, hold waiter) are deliberately not exported: their shapes may change.

export { instrument } from './instrument.js';
export { wrapAnthropicTools } from './adapters/anthropic.js';
export { wrapOpenAITools } from './adapters/openai.js';
export { wrapToolFunctions } from './function-record.js';
export type { Governed, GovernedRecord, GovernedToolFunction } from './function-record.js';
export { flush, shutdown, eventStats, TollgateRuntime } from './runtime.js';
export type { EventStats } from './event-batcher.js';
export { TollgateClient, ThothClient } from './legacy-client.js';
export type { TollgateClientOptions } from './legacy-client.js';

export { PolicyViolationError, ThothPolicyViolation, TollgateSdkError } from './errors.js';
export type { PolicyViolationInit, SdkErrorCode } from './errors.js';

export { EnforcementMode, DecisionType, EventType, SourceType, Redaction } from './enums.js';
export type { BehavioralEvent, EnforcementDecision, EventBatchResult, HoldStatus, OutputDecision, ToolCallOutcome } from './types.js';

export {
  resolveConfig,
  DEFAULT_ENFORCEMENT,
  DEFAULT_USER_ID,
  DEFAULT_STEP_UP_TIMEOUT_MINUTES,
  DEFAULT_STEP_UP_POLL_INTERVAL_MS,
  DEFAULT_ENFORCE_TIMEOUT_MS,
  DEFAULT_REDACTION,
  DEFAULT_MAX_QUEUE_SIZE,
  DEFAULT_BATCH_SIZE,
  DEFAULT_FLUSH_INTERVAL_MS,
  DEFAULT_MAX_RETRY_DELAY_MS,
  DEFAULT_MAX_BATCH_BYTES,
} from './config.js';
export type { TollgateConfig, ThothConfig, EventOptions, ResolvedConfig } from './config.js';
export { DEFAULT_ARGUMENT_SNAPSHOT } from './argument-snapshot.js';
export type { ArgumentSnapshotMode } from './argument-snapshot.js';
export type { LogLevel, SdkLogger } from './logger.js';

// SecureAgent client for sandboxed agents (seed 004). Internal helpers (HTTP client, SSE parser) stay out.
export {
  SecureAgent, SDKError, PERMISSION_PRESETS, PERMISSION_SCOPES, DEFAULT_AGENT_NAME, DEFAULT_PERMISSION_TIMEOUT_MS,
  AUDIT_STREAM_PATH, COMPLIANCE_FRAMEWORKS,
} from './secure-agent/index.js';
export type {
  SecureAgentOptions, SecureAgentLimits, SandboxTemplateName, ComplianceFramework, AgentRecord, ExecutionResponse,
  ExecutionResult, HostCallAuditEntry, RunInput, AuditLogQuery, PermissionRequestOptions, PermissionRequestRecord,
  RequestedPermissions, CredentialInput, CredentialRecord, SecureAgentErrorCode, PermissionScope, PermissionPresetName,
  AuditStreamHandle, AuditStreamOptions, AuditEventHandler,
  ComplianceStatus, ComplianceReport, ComplianceEvidencePackage, ComplianceCheckResult, ComplianceControlResult,
  ComplianceControlStatus, ComplianceFrameworkLabel, ComplianceCheckpointEvidence, ComplianceVerification,
  FrameworkComplianceResult, EvidencePackageFormat, ComplianceReportFormat,
} from './secure-agent/index.js';
