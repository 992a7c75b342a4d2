import { PolicyViolationError } from './errors.js';
import type { HttpClient } from './http-client.js';
import { TransportError } from './http-client.js';
import type { SdkLogger } from './logger.js';
import type { EnforcementDecision } from './types.js';

/** Longest single long-poll request the SDK asks for (the server caps at 30000). */
export const MAX_LONG_POLL_WAIT_MS = 25_000;

/**
 * A long poll answered "pending" sooner than this did not wait (a broken server or proxy): the next
 * lookup then waits `pollIntervalMs` like a plain poll, instead of looping without pause.
 */
export const MIN_LONG_POLL_ANSWER_MS = 1_000;

/**
 * Hold tokens are opaque ids (`hold_` + base64url on Tollgate); anything else, such as `..` or a `/`,
 * could make the lookup URL point somewhere else once the URL is normalised, so it is refused.
 */
const HOLD_TOKEN = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,255}$/;

/** What {@link waitForHold} needs besides the decision. */
export interface HoldWaitOptions {
  client: HttpClient;
  toolName: string;
  timeoutMs: number;
  pollIntervalMs: number;
  logger: SdkLogger;
  signal?: AbortSignal | undefined;
}

/**
 * Waits until a STEP_UP hold is approved (resolves), or throws {@link PolicyViolationError} with
 * `HOLD_DENIED`, `HOLD_EXPIRED`, `HOLD_TIMEOUT` or `HOLD_CANCELLED`. Uses long polling while the
 * server answers with `X-Tollgate-Long-Poll: 1`, plain polling every `pollIntervalMs` otherwise.
 * Network errors while waiting are retried until the deadline: the tool never runs without an approval.
 */
export async function waitForHold(decision: EnforcementDecision, options: HoldWaitOptions): Promise<void> {
  const token = decision.holdToken;
  const refuse = (code: 'HOLD_DENIED' | 'HOLD_EXPIRED' | 'HOLD_TIMEOUT' | 'HOLD_CANCELLED', reason: string, cause?: unknown) =>
    new PolicyViolationError({ code, toolName: options.toolName, reason, violationId: decision.violationId, decisionId: decision.decisionId, cause, details: { holdToken: token } });
  if (!token) throw refuse('HOLD_DENIED', `step-up required but the enforcer sent no hold token: ${decision.reason}`);
  if (!HOLD_TOKEN.test(token)) throw refuse('HOLD_DENIED', 'step-up required but the enforcer sent a malformed hold token');
  options.logger.debug(`waiting for step-up approval of ${options.toolName}`, { hold_token: token });
  const deadline = Date.now() + options.timeoutMs;
  let longPoll = true;
  while (true) {
    if (options.signal?.aborted) throw refuse('HOLD_CANCELLED', 'the wait for approval was cancelled', options.signal.reason);
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw refuse('HOLD_TIMEOUT', `no approval within ${Math.round(options.timeoutMs / 1000)} s`);
    const askedAt = Date.now();
    try {
      const answer = await options.client.holdStatus(token, longPoll ? Math.min(MAX_LONG_POLL_WAIT_MS, remaining) : 0, options.signal);
      longPoll = answer.longPoll;
      const { status } = answer;
      if (status.status === 'approved') return;
      if (status.status === 'denied') throw refuse('HOLD_DENIED', status.comment ?? status.reason ?? 'denied by an approver');
      if (status.status === 'expired') throw refuse('HOLD_EXPIRED', status.reason ?? 'the hold expired');
      if (longPoll && Date.now() - askedAt >= MIN_LONG_POLL_ANSWER_MS) continue;
    } catch (error) {
      if (error instanceof PolicyViolationError) throw error;
      if (options.signal?.aborted) throw refuse('HOLD_CANCELLED', 'the wait for approval was cancelled', options.signal.reason);
      if (error instanceof TransportError && !error.retryable) throw refuse('HOLD_DENIED', `hold lookup refused: ${error.message}`, error);
      options.logger.debug(`hold poll failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    await sleepUntil(Math.min(options.pollIntervalMs, Math.max(0, deadline - Date.now())), options.signal);
  }
}

function sleepUntil(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
