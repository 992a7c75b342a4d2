/**
 * Public surface of @tollgate/sandbox: the supervisor that runs untrusted agent code in QuickJS (WASM) inside
 * worker threads, the permission/template data of the Secure Agent API, and the egress (SSRF) guard the server uses
 * for the real `http_request`.
 *
 * Left out on purpose: the worker entry file and its protocol (an internal contract between the supervisor and its
 * threads), the guest bridge, and the pool. Only JSON crosses into the guest; nothing here hands out engine handles.
 */
export { SandboxSupervisor } from './supervisor/supervisor.js';
export {
  DEFAULT_ALLOW_HTTP_EGRESS, DEFAULT_DEADLINE_GRACE_MS, DEFAULT_KILL_GRACE_MS, DEFAULT_MAX_CODE_CHARS, DEFAULT_MAX_HOST_CALLS_PER_RUN,
  DEFAULT_MAX_HOST_RESPONSE_BYTES, DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_LOG_ENTRIES, DEFAULT_MAX_LOG_MESSAGE_CHARS,
  DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MAX_QUEUE, DEFAULT_MAX_TIMERS, DEFAULT_MAX_WORKERS, DEFAULT_STACK_SIZE_BYTES,
  DEFAULT_WARM_WORKERS,
} from './supervisor/options.js';
export type { SupervisorOptions } from './supervisor/options.js';

export {
  HOST_FUNCTION_SCOPES, PERMISSION_PRESETS, PERMISSION_SCOPES, PERMISSIONS, QUOTA_COUNTED_FUNCTIONS, isPermissionScope,
} from './policy/permissions.js';
export type { HostFunctionName, PermissionPresetName, PermissionScope } from './policy/permissions.js';
export {
  DEFAULT_AGENT_CONFIG, DEFAULT_API_CALLS_PER_MINUTE, MAX_API_CALLS_PER_MINUTE, MAX_API_CALLS_PER_RUN, MAX_CPU_TIME_LIMIT_MS, MAX_MEMORY_LIMIT_MB, SANDBOX_TEMPLATES,
  resolveSandboxConfig,
} from './policy/templates.js';
export type { AgentConfig, ResolvedSandboxConfig, SandboxTemplateName } from './policy/templates.js';

export { classifyAddress, createAddressAllowList, METADATA_ADDRESSES, METADATA_HOSTNAMES } from './network/address-policy.js';
export type { AddressClass } from './network/address-policy.js';
export { hostMatchesDomains } from './network/domains.js';
export { resolveEgressTarget, systemResolver } from './network/egress-guard.js';
export type { EgressPolicy, EgressTarget, HostResolver, ResolvedAddress } from './network/egress-guard.js';
export {
  DEFAULT_HTTP_TIMEOUT_MS, DEFAULT_MAX_REDIRECTS, DEFAULT_MAX_RESPONSE_BYTES, guardedHttpRequest,
} from './network/guarded-http.js';
export type { GuardedHttpOptions } from './network/guarded-http.js';

export type {
  ExecutionRequest, ExecutionResult, ExecutionStatus, HostCallAuditEntry, HostCallContext, HostHandlers,
  HttpRequestArgs, HttpResponseData, JsonValue, LogEntry, SandboxErrorCode, SandboxViolation,
} from './types.js';
