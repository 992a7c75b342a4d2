/**
 * Errors thrown by the SDK. Callers branch on `code`, never on message text.
 * The SDK has no runtime dependencies, so it defines its own base class instead of
 * importing `TollgateError` from `@tollgate/core`; the codes match the server's registry.
 */

/** Stable codes carried by every SDK error. */
export type SdkErrorCode =
  | 'POLICY_VIOLATION'
  | 'HOLD_DENIED'
  | 'HOLD_TIMEOUT'
  | 'HOLD_EXPIRED'
  | 'HOLD_CANCELLED'
  | 'OUTPUT_BLOCKED'
  | 'ENFORCER_UNREACHABLE'
  | 'ENFORCER_REJECTED'
  | 'CONFIG_INVALID';

/**
 * Brands recognised across copies of the SDK: an app that loads both the ESM and the CommonJS build
 * (or two bundled copies) still gets `instanceof` right, because the check looks for a global symbol
 * instead of one copy's class identity.
 */
const SDK_ERROR_BRAND = Symbol.for('tollgate.sdk.error');
const POLICY_VIOLATION_BRAND = Symbol.for('tollgate.sdk.policyViolation');

function hasBrand(value: unknown, brand: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

/** Base class of every error the SDK throws. */
export class TollgateSdkError extends Error {
  readonly code: SdkErrorCode;
  readonly details: Record<string, unknown> | undefined;

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, SDK_ERROR_BRAND);
  }

  constructor(code: SdkErrorCode, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    Object.defineProperty(this, SDK_ERROR_BRAND, { value: true });
    this.name = 'TollgateSdkError';
    this.code = code;
    this.details = options.details;
  }
}

/** Fields describing a refused tool call. */
export interface PolicyViolationInit {
  code?: SdkErrorCode;
  toolName: string;
  reason: string;
  violationId?: string | null;
  decisionId?: string | null;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * Thrown before a tool runs when the call is refused: a BLOCK decision, a denied or timed-out
 * step-up hold, a blocked output, or (fail closed) an unreachable enforcer.
 * @example
 * try { await tool.run('/etc/passwd'); }
 * catch (err) { if (err instanceof PolicyViolationError && err.code === 'POLICY_VIOLATION') console.warn(err.reason); }
 */
export class PolicyViolationError extends TollgateSdkError {
  readonly toolName: string;
  readonly reason: string;
  readonly violationId: string | null;
  readonly decisionId: string | null;

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, POLICY_VIOLATION_BRAND);
  }

  constructor(init: PolicyViolationInit) {
    super(init.code ?? 'POLICY_VIOLATION', `Tool "${init.toolName}" refused: ${init.reason}`, {
      details: init.details,
      cause: init.cause,
    });
    Object.defineProperty(this, POLICY_VIOLATION_BRAND, { value: true });
    this.name = 'PolicyViolationError';
    this.toolName = init.toolName;
    this.reason = init.reason;
    this.violationId = init.violationId ?? null;
    this.decisionId = init.decisionId ?? null;
  }
}

/**
 * The seed SDK's name for {@link PolicyViolationError}; `instanceof` works with either name.
 * @example
 * if (err instanceof ThothPolicyViolation) console.warn(err.toolName, err.reason);
 */
export const ThothPolicyViolation = PolicyViolationError;
export type ThothPolicyViolation = PolicyViolationError;
