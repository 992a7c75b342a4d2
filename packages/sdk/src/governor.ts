import type { ArgumentSnapshot } from './argument-snapshot.js';
import { snapshotArguments } from './argument-snapshot.js';
import { UncheckableOutputError, checkableOutputJson } from './checkable-output.js';
import type { ResolvedConfig } from './config.js';
import { PolicyViolationError } from './errors.js';
import type { EventBatcher } from './event-batcher.js';
import { waitForHold } from './hold-waiter.js';
import type { HttpClient } from './http-client.js';
import { TransportError } from './http-client.js';
import type { SdkLogger } from './logger.js';
import { redactPayload, safeStringify } from './redaction.js';
import type { BehavioralEvent, EnforcementDecision, ToolCallOutcome } from './types.js';

/** Chunks of a stream kept for its TOOL_CALL_POST event. */
const MAX_EVENT_CHUNKS = 1000;

/** Per-call context shared by the PRE and POST events. */
interface CallContext {
  toolName: string;
  /** Taken once, before the first decision request: what is checked, redeemed and run. */
  args: ArgumentSnapshot;
  callId: string;
  startedAt: number;
  decision?: EnforcementDecision;
}

/** A call's arguments as the wrapper found them (see `CallParts` in wrap.ts). */
export interface CallArguments {
  args: unknown;
  /** True when `args` is the tool function's whole parameter list. */
  parameterList?: boolean;
}

/** Collaborators of a {@link Governor}. */
export interface GovernorDeps {
  config: ResolvedConfig;
  client: HttpClient;
  batcher: EventBatcher;
  logger: SdkLogger;
}

/**
 * Runs one tool call under governance: PRE event, `/v1/enforce`, step-up wait, the tool itself,
 * output check, POST event. Adapters only decide *what* to wrap; all policy behaviour lives here.
 */
export class Governor {
  readonly config: ResolvedConfig;
  readonly #client: HttpClient;
  readonly #batcher: EventBatcher;
  readonly #logger: SdkLogger;

  constructor(deps: GovernorDeps) {
    this.config = deps.config;
    this.#client = deps.client;
    this.#batcher = deps.batcher;
    this.#logger = deps.logger;
  }

  /** The shared event queue (for `flush()` and stats). */
  get batcher(): EventBatcher {
    return this.#batcher;
  }

  /**
   * Governs a call whose tool returns a value (or a promise, or an async iterable, which is then
   * governed like a stream). Throws {@link PolicyViolationError} before `run` when refused. `run`
   * receives the arguments to call the tool with: a copy of the snapshot that was checked (or approved),
   * taken before the decision request, so a change the caller makes to its own object meanwhile is not run.
   */
  async call<T>(toolName: string, call: CallArguments, run: (args: unknown) => T | Promise<T>, signal?: AbortSignal): Promise<T> {
    const context = await this.#before(toolName, call, signal);
    let result: T;
    try {
      result = await run(context.args.forTool());
    } catch (error) {
      throw await this.#screenToolError(context, error);
    }
    if (isAsyncIterable(result)) return this.#follow(context, result) as T;
    try {
      await this.#checkOutput(context, result);
    } catch (error) {
      this.#post(context, error instanceof PolicyViolationError ? 'blocked' : 'error', result, error);
      throw error;
    }
    this.#post(context, 'success', result);
    return result;
  }

  /**
   * Governs a streaming tool: enforcement happens before the first chunk; the POST event is sent
   * after exhaustion, an early `return()` by the consumer, or a throw.
   */
  async *stream<T>(toolName: string, call: CallArguments, start: (args: unknown) => AsyncIterable<T>, signal?: AbortSignal): AsyncGenerator<T, void, undefined> {
    const context = await this.#before(toolName, call, signal);
    yield* this.#follow(context, start(context.args.forTool()));
  }

  async *#follow<T>(context: CallContext, iterable: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
    if (context.decision?.captureOutput) {
      yield* await this.#collectChecked(context, iterable);
      return;
    }
    const chunks: T[] = [];
    let finished = false;
    let failure: unknown;
    try {
      for await (const chunk of iterable) {
        if (chunks.length < MAX_EVENT_CHUNKS) chunks.push(chunk);
        yield chunk;
      }
      finished = true;
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      if (failure !== undefined) this.#post(context, failure instanceof PolicyViolationError ? 'blocked' : 'error', chunks, failure);
      else this.#post(context, 'success', finished ? chunks : { chunks, closedEarly: true });
    }
  }

  /**
   * When policy checks the output, a stream is read to its end and checked as a whole before its first
   * chunk is handed on: chunks passed on earlier would reach the agent even when the verdict is BLOCK.
   */
  async #collectChecked<T>(context: CallContext, iterable: AsyncIterable<T>): Promise<T[]> {
    const chunks: T[] = [];
    try {
      for await (const chunk of iterable) chunks.push(chunk);
    } catch (error) {
      throw await this.#screenToolError(context, error, chunks.slice(0, MAX_EVENT_CHUNKS));
    }
    try {
      await this.#checkOutput(context, chunks);
    } catch (error) {
      this.#post(context, error instanceof PolicyViolationError ? 'blocked' : 'error', chunks.slice(0, MAX_EVENT_CHUNKS), error);
      throw error;
    }
    this.#post(context, 'success', chunks.slice(0, MAX_EVENT_CHUNKS));
    return chunks;
  }

  async #before(toolName: string, call: CallArguments, signal?: AbortSignal): Promise<CallContext> {
    // The snapshot is taken before anything is awaited: from here on, the caller's object no longer matters.
    const args = snapshotArguments(call.args, this.config.argumentSnapshot, call.parameterList);
    const context: CallContext = { toolName, args, callId: crypto.randomUUID(), startedAt: Date.now() };
    this.#emit(context, 'TOOL_CALL_PRE', { arguments: redactPayload(call.args === undefined ? undefined : args.checked, this.config.redaction) });
    try {
      context.decision = await this.#decide(context);
      await this.#apply(context, context.decision, signal);
    } catch (error) {
      this.#post(context, 'blocked', undefined, error);
      throw error;
    }
    return context;
  }

  async #decide(context: CallContext, holdToken?: string): Promise<EnforcementDecision> {
    const { config } = this;
    try {
      const decision = await this.#client.enforce(
        {
          agentId: config.agentId,
          ...(config.tenantId === undefined ? {} : { tenantId: config.tenantId }),
          userId: config.userId,
          sessionId: config.sessionId,
          toolName: context.toolName,
          arguments: context.args.checked,
          enforcement: config.enforcement,
          approvedScope: config.approvedScope,
          callId: context.callId,
          ...(holdToken === undefined ? {} : { holdToken }),
        },
        config.enforceTimeoutMs,
      );
      this.#logger.debug(`decision ${decision.decision} for ${context.toolName}`, {
        decision_id: decision.decisionId,
        hold_token: decision.holdToken,
        reason: decision.reason,
        would_have_been: decision.wouldHaveBeen,
      });
      return decision;
    } catch (error) {
      return this.#onEnforcerFailure(context, error);
    }
  }

  #onEnforcerFailure(context: CallContext, error: unknown): EnforcementDecision {
    if (!(error instanceof TransportError)) throw error;
    if (error.kind === 'unreachable' && this.config.failOpen) {
      this.#logger.warn(`enforcer unreachable, failing open for ${context.toolName}: ${error.message}`);
      return failOpenDecision(this.config.enforcement, error.message);
    }
    const unreachable = error.kind === 'unreachable';
    throw new PolicyViolationError({
      code: unreachable ? 'ENFORCER_UNREACHABLE' : 'ENFORCER_REJECTED',
      toolName: context.toolName,
      reason: unreachable
        ? `the enforcer was unreachable (${error.message}); failing closed`
        : `the enforcer refused the request (${error.message})`,
      details: { status: error.status, serverCode: error.serverCode },
      cause: error,
    });
  }

  async #apply(context: CallContext, decision: EnforcementDecision, signal?: AbortSignal): Promise<void> {
    // The server's decision is followed as is, whatever mode was asked for: a policy may pin the agent's
    // mode (an agent asking for `observe` can still be blocked), and in observe mode the server answers ALLOW.
    if (decision.decision === 'ALLOW') {
      if (decision.wouldHaveBeen && decision.wouldHaveBeen !== 'ALLOW') this.#logger.info(`observe: ${context.toolName} would have been ${decision.wouldHaveBeen}`);
      return;
    }
    if (decision.decision === 'BLOCK') {
      throw new PolicyViolationError({ toolName: context.toolName, reason: decision.reason, violationId: decision.violationId, decisionId: decision.decisionId, details: { matchedRules: decision.matchedRules } });
    }
    await waitForHold(decision, {
      client: this.#client,
      toolName: context.toolName,
      timeoutMs: this.config.stepUpTimeoutMs,
      pollIntervalMs: this.config.stepUpPollIntervalMs,
      logger: this.#logger,
      signal: anySignal(this.config.signal, signal),
    });
    await this.#redeem(context, decision.holdToken ?? '');
  }

  /**
   * Redeems an approved hold: the server releases it exactly once, for exactly this action, and answers
   * with a fresh decision (whose `captureOutput` then applies).
   */
  async #redeem(context: CallContext, holdToken: string): Promise<void> {
    const redeemed = await this.#decide(context, holdToken);
    context.decision = redeemed;
    if (redeemed.decision !== 'ALLOW') {
      throw new PolicyViolationError({ code: 'HOLD_DENIED', toolName: context.toolName, reason: redeemed.reason, violationId: redeemed.violationId, decisionId: redeemed.decisionId, details: { holdToken } });
    }
  }

  async #checkOutput(context: CallContext, output: unknown): Promise<void> {
    const decision = context.decision;
    if (!decision?.captureOutput) return;
    const checked = this.#checkableOutput(context, output);
    let verdict;
    try {
      verdict = await this.#client.enforceOutput(
        { decisionId: decision.decisionId, sessionId: this.config.sessionId, agentId: this.config.agentId, toolName: context.toolName, output: checked },
        this.config.enforceTimeoutMs,
      );
    } catch (error) {
      this.#onEnforcerFailure(context, error);
      return;
    }
    if (verdict.decision !== 'ALLOW') {
      throw new PolicyViolationError({ code: 'OUTPUT_BLOCKED', toolName: context.toolName, reason: verdict.reason, violationId: verdict.violationId, decisionId: decision.decisionId });
    }
  }

  /**
   * Frameworks hand a tool's error to the model (AI SDK `tool-error`, LangChain's ToolMessage, MCP's `isError`), so
   * when policy checks the output, the error is checked as the output, in the form the model reads (`name: message`,
   * see {@link checkableError}); the server then also records a source tool's data carried in an error for data flow.
   * Returns what to throw: the tool's own error once the check allows it, else the refusal (OUTPUT_BLOCKED, or the
   * enforcer failure when failing closed), which carries nothing of the refused message (not even as `cause`).
   */
  async #screenToolError(context: CallContext, error: unknown, partialResult?: unknown): Promise<unknown> {
    if (context.decision?.captureOutput) {
      try {
        await this.#checkOutput(context, checkableError(error));
      } catch (refusal) {
        this.#post(context, 'blocked', partialResult, refusal);
        return refusal;
      }
    }
    this.#post(context, 'error', partialResult, error);
    return error;
  }

  /**
   * What the output check sends: bytes as their text. An output whose content the SDK cannot read without consuming it
   * (a stream, a Response, a Blob, …) fails closed: sending its empty JSON form would have the server allow content it
   * never saw.
   */
  #checkableOutput(context: CallContext, output: unknown): unknown {
    try {
      return JSON.parse(checkableOutputJson(output)) as unknown;
    } catch (error) {
      if (!(error instanceof UncheckableOutputError)) throw error;
      throw new PolicyViolationError({
        code: 'OUTPUT_BLOCKED',
        toolName: context.toolName,
        reason: `${error.message}: policy checks this tool's output, and the SDK cannot read a ${error.outputType} without consuming it (or its JSON form loses its content); return text, bytes or JSON data instead`,
        decisionId: context.decision?.decisionId ?? null,
        details: { outputType: error.outputType },
      });
    }
  }

  #post(context: CallContext, outcome: ToolCallOutcome, result: unknown, error?: unknown): void {
    this.#emit(context, 'TOOL_CALL_POST', {
      durationMs: Date.now() - context.startedAt,
      outcome,
      ...(result === undefined ? {} : { result: redactPayload(result, this.config.redaction) }),
      ...(error === undefined ? {} : { error: error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error) }),
    });
  }

  #emit(context: CallContext, eventType: BehavioralEvent['eventType'], extra: Partial<BehavioralEvent>): void {
    const { config } = this;
    const event: BehavioralEvent = {
      eventId: crypto.randomUUID(),
      eventType,
      sourceType: 'SDK',
      agentId: config.agentId,
      ...(config.tenantId === undefined ? {} : { tenantId: config.tenantId }),
      userId: config.userId,
      sessionId: config.sessionId,
      toolName: context.toolName,
      callId: context.callId,
      ...(context.decision?.decisionId ? { decisionId: context.decision.decisionId } : {}),
      timestamp: new Date().toISOString(),
      redaction: config.redaction,
      ...extra,
    };
    if (event.arguments === undefined) delete event.arguments;
    if (event.result === undefined) delete event.result;
    this.#batcher.enqueue(event);
  }
}

/**
 * A thrown value as the output check reads it: text, as frameworks pass it to the model (and as output rules such as
 * `output.contains(…)` read outputs). An `Error` as `name: message`, a thrown string as is, anything else in its JSON
 * form (what the AI SDK passes on for a non-Error).
 */
function checkableError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return typeof error === 'string' ? error : safeStringify(error);
}

function failOpenDecision(mode: string, reason: string): EnforcementDecision {
  return {
    decision: 'ALLOW',
    reason: `enforcer unreachable, failing open: ${reason}`,
    decisionId: null,
    violationId: null,
    holdToken: null,
    holdExpiresAt: null,
    matchedRules: [],
    policyVersion: null,
    wouldHaveBeen: null,
    captureOutput: false,
    mode,
  };
}

function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  if (present.length <= 1) return present[0];
  return AbortSignal.any(present);
}

/**
 * True for async generator objects (what an `async function*` tool returns). Other async iterables,
 * such as a `ReadableStream`, are handed back untouched so their type does not change.
 */
export function isAsyncIterable(value: unknown): value is AsyncGenerator<unknown> {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as { next?: unknown; [Symbol.asyncIterator]?: unknown };
  return typeof candidate.next === 'function' && typeof candidate[Symbol.asyncIterator] === 'function';
}
