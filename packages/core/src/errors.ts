/**
 * Stable, machine-readable error codes shared by every Tollgate package and by the wire envelope
 * `{ "error": { "code", "message", "details"?, "requestId" } }`.
 *
 * `ERROR_STATUS` is the ONE registry mapping each code to its HTTP status. To add a code, add one line here
 * (keep areas grouped); callers branch on `code`, never on message text.
 */
export const ERROR_STATUS = {
  // Generic request problems (foundation)
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  TENANT_MISMATCH: 403,
  KEY_AGENT_FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  HEADERS_TOO_LARGE: 431,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  NOT_IMPLEMENTED: 501,
  UNAVAILABLE: 503,
  // Sandbox API, vault, permission requests (issue 6)
  AGENT_HALTED: 409,
  CREDENTIAL_NAME_TAKEN: 409,
  CREDENTIAL_REVOKED: 409,
  CREDENTIAL_UNKNOWN: 422,
  CREDENTIAL_TOO_SHORT: 422,
  PERMISSION_REQUEST_DECIDED: 409,
  VAULT_DECRYPT_FAILED: 500,
  VAULT_KEY_INVALID: 500,
  // Sandbox runtime egress guard (issue 6, runtime)
  SANDBOX_EGRESS_DENIED: 403,
  SANDBOX_HTTP_FAILED: 502,
  // Ledger: notes, checkpoints, proofs, cosignatures (issue 5)
  LEDGER_NOTE_INVALID: 400,
  LEDGER_RANGE_INVALID: 400,
  LEDGER_COSIGNATURE_INVALID: 422,
  LEDGER_WITNESS_UNKNOWN: 422,
  LEDGER_BUNDLE_INVALID: 422,
  LEDGER_BUNDLE_TOO_LARGE: 422,
  LEDGER_KEY_UNAVAILABLE: 500,
  // Dashboard sessions (issue 8)
  CSRF_INVALID: 403,
  DASHBOARD_SCOPE_REQUIRED: 403,
  // Enforcement: policies, holds, approvals, kill switch (issue 3)
  POLICY_INVALID: 422,
  POLICY_NAME_TAKEN: 409,
  POLICY_VERSION_CONFLICT: 409,
  HOLD_DECIDED: 409,
  HOLD_EXPIRED: 409,
  APPROVAL_SOURCE_UNKNOWN: 404,
  // Compliance evidence (SecureAgent compliance methods)
  COMPLIANCE_FRAMEWORK_UNKNOWN: 400,
  COMPLIANCE_NOT_CONFIGURED: 409,
  // Configuration (start-up, never sent over HTTP in practice)
  CONFIG_INVALID: 500,
} as const satisfies Record<string, number>;

/** Every registered error code. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Options accepted by {@link TollgateError}. */
export interface TollgateErrorOptions {
  /** JSON-serialisable detail for the caller (e.g. which field failed). Never put secrets here. */
  details?: unknown;
  /** The underlying error, kept for logs; never sent over the wire. */
  cause?: unknown;
}

/**
 * The one error type of Tollgate: a registered `code`, a human message, optional `details`.
 *
 * @example
 * throw new TollgateError('NOT_FOUND', 'API key not found', { details: { keyId } });
 */
export class TollgateError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, options: TollgateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TollgateError';
    this.code = code;
    if (options.details !== undefined) this.details = options.details;
  }

  /** HTTP status registered for this error's code. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/**
 * True when `value` is a {@link TollgateError} (also across package copies, by shape).
 *
 * @example
 * if (isTollgateError(err) && err.code === 'NOT_FOUND') return null;
 */
export function isTollgateError(value: unknown): value is TollgateError {
  return (
    value instanceof TollgateError ||
    (value instanceof Error && value.name === 'TollgateError' && isErrorCode((value as { code?: unknown }).code))
  );
}

/**
 * True when `code` is a registered error code.
 *
 * @example
 * isErrorCode('NOT_FOUND'); // true
 */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_STATUS, code);
}

/**
 * HTTP status for a registered code.
 *
 * @example
 * statusForCode('RATE_LIMITED'); // 429
 */
export function statusForCode(code: ErrorCode): number {
  return ERROR_STATUS[code];
}
