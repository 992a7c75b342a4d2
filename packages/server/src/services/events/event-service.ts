import { TollgateError, redactSecretsDeep } from '@tollgate/core';
import type { Store } from '../../store/index.js';
import type { EventRepository, NewEvent, StoredEvent } from '../../store/repositories/events.js';
import type { Clock } from '../clock.js';
import { assertJsonDepth } from '../enforcement/input-limits.js';
import { decodeCursor, encodeCursor } from './cursor.js';

/** Largest batch `POST /v1/events/batch` accepts (the wire contract's limit). */
export const MAX_EVENTS_PER_BATCH = 1000;
/** Default and largest page size of `GET /api/v1/events`. */
export const DEFAULT_EVENT_PAGE_SIZE = 100;
export const MAX_EVENT_PAGE_SIZE = 1000;
/**
 * How far ahead of the server's clock an event's `timestamp` may be stored. Events are ordered (listing, the
 * dashboard's sessions) by the time the SDK claims; a later one is stored as the server's time plus this, so a
 * wrong clock or a forged far-future timestamp cannot pin a session at the top of every list for years.
 */
export const MAX_EVENT_CLOCK_SKEW_MS = 5 * 60_000;
/**
 * Most stored text (arguments, result and error) one page of `GET /api/v1/events` loads: a page stops before the
 * event that would pass it (but always holds one event), so 1,000 events of up to the body limit each cannot make
 * one answer of a gigabyte in the memory every tenant shares.
 */
export const MAX_EVENT_PAGE_BYTES = 8 * 1024 * 1024;

/** A BehavioralEvent as the SDK sends it (already schema-validated by the route). */
export interface IncomingEvent {
  eventId: string;
  eventType: string;
  sourceType: string;
  agentId: string;
  tenantId?: string | undefined;
  userId: string;
  sessionId: string;
  toolName: string;
  callId: string;
  decisionId?: string | undefined;
  timestamp: string;
  durationMs?: number | undefined;
  outcome?: string | undefined;
  arguments?: unknown;
  result?: unknown;
  redaction: string;
  error?: string | undefined;
}

/** An event as `GET /api/v1/events` returns it. */
export interface EventView {
  eventId: string;
  eventType: string;
  sourceType: string;
  agentId: string;
  tenantId: string;
  userId: string;
  sessionId: string;
  toolName: string;
  callId: string;
  decisionId: string | null;
  timestamp: string;
  receivedAt: string;
  durationMs: number | null;
  outcome: string | null;
  redaction: string;
  arguments?: unknown;
  result?: unknown;
  error: string | null;
}

/** Filters of {@link EventService.list}. */
export interface EventListQuery {
  sessionId?: string | undefined;
  agentId?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

/** Collaborators of {@link EventService}. */
export interface EventServiceDeps {
  store: Store;
  clock: Clock;
  /** Masks secrets in stored arguments, results and errors (default: content safety's `redactSecretsDeep`). */
  redact?: (<T>(value: T) => T) | undefined;
  /** Events stored (for `/metrics`). */
  onIngested?: ((count: number) => void) | undefined;
}

/**
 * Ingests SDK behavioural events exactly once per (tenant, eventId) and pages them newest first.
 *
 * @example
 * const events = new EventService({ store, clock });
 * await events.ingest('acme', [event]); // { accepted: 1, duplicates: 0 }
 */
export class EventService {
  readonly #repository: EventRepository;
  readonly #clock: Clock;
  readonly #redact: <T>(value: T) => T;
  readonly #onIngested: ((count: number) => void) | undefined;

  constructor(deps: EventServiceDeps) {
    this.#repository = deps.store.events;
    this.#clock = deps.clock;
    this.#redact = deps.redact ?? redactSecretsDeep;
    this.#onIngested = deps.onIngested;
  }

  /** Stores a batch; events already stored (same tenant and eventId) count as duplicates. */
  async ingest(tenantId: string, events: readonly IncomingEvent[]): Promise<{ accepted: number; duplicates: number }> {
    if (events.length > MAX_EVENTS_PER_BATCH) {
      throw new TollgateError('PAYLOAD_TOO_LARGE', `at most ${MAX_EVENTS_PER_BATCH} events per batch`);
    }
    const receivedAt = this.#clock.now();
    const rows = events.map((event, index) => this.#toNewEvent(tenantId, event, index, receivedAt));
    const accepted = rows.length === 0 ? 0 : await this.#repository.insertMany(tenantId, rows);
    this.#onIngested?.(accepted);
    return { accepted, duplicates: rows.length - accepted };
  }

  /** One page, newest first, with the cursor of the next (older) page or null. */
  async list(tenantId: string, query: EventListQuery = {}): Promise<{ events: EventView[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(1, Math.floor(query.limit ?? DEFAULT_EVENT_PAGE_SIZE)), MAX_EVENT_PAGE_SIZE);
    const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const { events, more } = await this.#repository.pageWithin(tenantId, {
      sessionId: query.sessionId, agentId: query.agentId, before, limit, maxBytes: MAX_EVENT_PAGE_BYTES,
    });
    const last = events.at(-1);
    return { events: events.map(toView), nextCursor: more && last ? encodeCursor(last) : null };
  }

  #toNewEvent(tenantId: string, event: IncomingEvent, index: number, receivedAt: number): NewEvent {
    if (event.tenantId !== undefined && event.tenantId !== tenantId) {
      throw new TollgateError('TENANT_MISMATCH', `events[${index}].tenantId does not match the API key’s tenant`);
    }
    const claimed = Date.parse(event.timestamp);
    if (Number.isNaN(claimed)) {
      throw new TollgateError('VALIDATION_FAILED', `events[${index}].timestamp must be an ISO date-time`, { details: [{ field: `body/events/${index}/timestamp` }] });
    }
    // Before redaction, which recurses: an array nested 10,000 deep overflowed its stack (500). Same limit as
    // /v1/enforce (MAX_JSON_DEPTH, 400 VALIDATION_FAILED), naming the event.
    assertJsonDepth(event.arguments, `body/events/${index}/arguments`);
    assertJsonDepth(event.result, `body/events/${index}/result`);
    const ts = Math.min(claimed, receivedAt + MAX_EVENT_CLOCK_SKEW_MS);
    return {
      tenantId,
      eventId: event.eventId,
      eventType: event.eventType,
      sourceType: event.sourceType,
      agentId: event.agentId,
      userId: event.userId,
      sessionId: event.sessionId,
      toolName: event.toolName,
      callId: event.callId,
      decisionId: event.decisionId ?? null,
      ts,
      receivedAt,
      durationMs: event.durationMs ?? null,
      outcome: event.outcome ?? null,
      redaction: event.redaction,
      arguments: event.arguments === undefined ? undefined : this.#redact(event.arguments),
      result: event.result === undefined ? undefined : this.#redact(event.result),
      error: event.error === undefined ? null : this.#redact(event.error),
    };
  }
}

function toView(event: StoredEvent): EventView {
  return {
    eventId: event.eventId,
    eventType: event.eventType,
    sourceType: event.sourceType,
    agentId: event.agentId,
    tenantId: event.tenantId,
    userId: event.userId,
    sessionId: event.sessionId,
    toolName: event.toolName,
    callId: event.callId,
    decisionId: event.decisionId,
    timestamp: new Date(event.ts).toISOString(),
    receivedAt: new Date(event.receivedAt).toISOString(),
    durationMs: event.durationMs,
    outcome: event.outcome,
    redaction: event.redaction,
    ...(event.arguments === undefined ? {} : { arguments: event.arguments }),
    ...(event.result === undefined ? {} : { result: event.result }),
    error: event.error,
  };
}
