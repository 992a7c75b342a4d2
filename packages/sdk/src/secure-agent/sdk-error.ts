/**
 * Stable error codes thrown by the SecureAgent client. Callers branch on `code`, never on message text.
 * Server errors keep the server's envelope code (e.g. `AGENT_HALTED`, `NOT_FOUND`).
 */
export type SecureAgentErrorCode =
  | 'PERMISSION_DENIED'
  | 'PERMISSION_EXPIRED'
  | 'PERMISSION_TIMEOUT'
  | 'NOT_IMPLEMENTED'
  | 'NOT_CONFIGURED'
  | 'INVALID_OPTIONS'
  | 'NETWORK_ERROR'
  | 'HTTP_ERROR'
  | 'COMPLIANCE_NOT_CONFIGURED'
  | 'COMPLIANCE_FRAMEWORK_UNKNOWN'
  | (string & {});

/**
 * Error thrown by every SecureAgent method (the seed calls it `SDKError`).
 *
 * @example
 * try { await agent.requestPermission({ permissions: { allow_network: true } }); }
 * catch (err) { if (err instanceof SDKError && err.code === 'PERMISSION_DENIED') { ... } }
 */
export class SDKError extends Error {
  readonly code: SecureAgentErrorCode;
  /** HTTP status when the error came from the server. */
  readonly status: number | undefined;
  readonly details: unknown;
  readonly requestId: string | undefined;

  constructor(
    code: SecureAgentErrorCode,
    message: string,
    extra: { status?: number; details?: unknown; requestId?: string; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'SDKError';
    this.code = code;
    this.status = extra.status;
    this.details = extra.details;
    this.requestId = extra.requestId;
  }
}
