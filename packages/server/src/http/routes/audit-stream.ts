import { Type } from '@sinclair/typebox';
import { TollgateError } from '@tollgate/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services/index.js';
import { parseStoredRecord, toEventView } from '../../services/ledger/index.js';
import type { LedgerRecordFilter } from '../../store/repositories/ledger.js';
import { authOf, requireScope } from '../auth.js';
import { RateLimitedResponseSchema } from '../errors.js';
import type { TollgateApp } from '../type-provider.js';
import { clientGone, streamCredentialCheck, streamSlotsOf } from '../stream-credential.js';

/** Seed default: a keepalive event every 15 s. */
export const DEFAULT_AUDIT_STREAM_KEEPALIVE_MS = 15_000;
/** Seed default: the stream ends with a `timeout` event after 10 minutes. */
export const DEFAULT_AUDIT_STREAM_TIMEOUT_MS = 600_000;
const PAGE = 500;

/** Timing of the live audit stream. */
export interface AuditStreamOptions {
  readonly keepaliveMs: number;
  readonly timeoutMs: number;
}

const StreamQuery = Type.Object({
  executionId: Type.Optional(Type.String({ maxLength: 200 })),
  agentId: Type.Optional(Type.String({ maxLength: 200 })),
  since: Type.Optional(Type.String({ maxLength: 40, description: 'ISO timestamp: replay records recorded at or after it' })),
});

interface StreamState {
  readonly tenantId: string;
  /** Does the credential that opened the stream still stand? Ends the stream (with an `error` event) when not. */
  readonly standing: () => Promise<boolean>;
  readonly filter: LedgerRecordFilter;
  /** Highest ledger index already examined (sent or filtered out). */
  cursor: number;
  pumping: boolean;
  again: boolean;
  closed: boolean;
}

function lastEventId(request: FastifyRequest): number | undefined {
  const header = request.headers['last-event-id'];
  if (header === undefined || header === '') return undefined;
  if (typeof header !== 'string' || !/^(0|[1-9][0-9]{0,15})$/.test(header.trim())) {
    throw new TollgateError('VALIDATION_FAILED', 'Last-Event-ID must be a ledger index');
  }
  return Number(header.trim());
}

async function startIndex(services: Services, request: FastifyRequest, tenantId: string, since: string | undefined): Promise<number> {
  const resumeAfter = lastEventId(request);
  if (resumeAfter !== undefined) return resumeAfter + 1;
  await services.ledger.flush();
  if (since === undefined) return services.store.ledger.size(tenantId);
  const ms = Date.parse(since);
  if (Number.isNaN(ms)) throw new TollgateError('VALIDATION_FAILED', 'since must be an ISO timestamp', { details: { field: 'since' } });
  return services.store.ledger.firstIndexAtOrAfter(tenantId, ms);
}

function write(reply: FastifyReply, event: string, data: unknown, id?: number): boolean {
  // Once ended, a write raises ERR_STREAM_WRITE_AFTER_END on the response, which nothing listens to: an uncaught
  // exception. A stream ends (timeout, credential gone) while a slow client's buffer is still full, i.e. before
  // 'close' has stopped the timers and before a pump waiting for 'drain' has seen it.
  if (reply.raw.writableEnded || reply.raw.destroyed) return true;
  const idLine = id === undefined ? '' : `id: ${id}\n`;
  return reply.raw.write(`event: ${event}\n${idLine}data: ${JSON.stringify(data)}\n\n`);
}

// Records are always read from the ledger by index, so a notification lost or coalesced never loses a record,
// and the cursor never sends one twice.
async function pump(services: Services, reply: FastifyReply, state: StreamState): Promise<void> {
  if (state.pumping) {
    state.again = true;
    return;
  }
  state.pumping = true;
  try {
    do {
      state.again = false;
      const size = await services.store.ledger.size(state.tenantId);
      while (!state.closed && state.cursor < size - 1) {
        if (!(await state.standing())) return;
        const page = await services.store.ledger.records(state.tenantId, { ...state.filter, afterIndex: state.cursor, beforeIndex: size }, PAGE);
        for (const row of page) {
          if (state.closed) return;
          if (!write(reply, 'audit', toEventView(parseStoredRecord(row)), row.index)) await drained(reply);
        }
        state.cursor = page.length < PAGE ? size - 1 : (page.at(-1)?.index ?? size - 1);
      }
    } while (state.again && !state.closed);
  } finally {
    state.pumping = false;
  }
}

function drained(reply: FastifyReply): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      reply.raw.off('drain', done);
      reply.raw.off('close', done);
      resolve();
    };
    reply.raw.once('drain', done);
    reply.raw.once('close', done);
  });
}

/**
 * `GET /api/sdk/audit/stream`: Server-Sent Events of the tenant's ledger (seed "Live Audit Stream").
 * Events: `connected`, `audit` (id = ledger index), `keepalive`, `timeout`. `Last-Event-ID` resumes after that
 * index with no gap and no duplicate.
 */
export function registerAuditStream(app: TollgateApp, services: Services, options: AuditStreamOptions): void {
  const whyNotStanding = streamCredentialCheck(services, 'audit:read');
  const slots = streamSlotsOf(services);
  app.get('/api/sdk/audit/stream', { ...requireScope('audit:read'), schema: { tags: ['audit'], summary: 'Live audit stream (SSE)', querystring: StreamQuery, produces: ['text/event-stream'], response: { 429: RateLimitedResponseSchema } } },
    async (request, reply) => {
      const auth = authOf(request);
      const { tenantId } = auth;
      const { executionId, agentId, since } = request.query;
      const start = await startIndex(services, request, tenantId, since);
      // Gone while the first records were looked up: its `close` has fired already (the listener below would never
      // run), so the slot would be held, and the pump kept reading, until the stream's timeout.
      if (clientGone(request)) return void reply.hijack();
      const release = slots.acquire(tenantId, auth.keyId);
      // Called only once the timers and the subscription below exist (from them, or from the pump started last).
      const end = (event?: { name: string; data: unknown }) => {
        if (state.closed) return;
        state.closed = true;
        release();
        unsubscribe();
        clearInterval(keepalive);
        clearTimeout(timeout);
        if (event) write(reply, event.name, event.data);
        reply.raw.end();
      };
      const standing = async (): Promise<boolean> => {
        if (state.closed) return false;
        const reason = await whyNotStanding(request, auth);
        if (reason !== undefined) end({ name: 'error', data: { code: 'UNAUTHENTICATED', message: reason } });
        return !state.closed;
      };
      const state: StreamState = { tenantId, standing, filter: { executionId, agentId }, cursor: start - 1, pumping: false, again: false, closed: false };
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      write(reply, 'connected', { tenantId, from: start, keepaliveMs: options.keepaliveMs, timeoutMs: options.timeoutMs });
      const run = () => void pump(services, reply, state).catch((error: unknown) => {
        request.log.warn({ err: error }, 'audit stream failed');
        end();
      });
      const unsubscribe = services.ledger.onAppended((event) => {
        if (event.tenantId === tenantId) run();
      });
      const keepalive = setInterval(() => {
        void standing().then((ok) => {
          if (ok) write(reply, 'keepalive', { at: new Date(services.clock.now()).toISOString() });
        }, (error: unknown) => request.log.warn({ err: error }, 'audit stream credential check failed'));
      }, options.keepaliveMs);
      const timeout = setTimeout(() => end({ name: 'timeout', data: { afterMs: options.timeoutMs, lastEventId: state.cursor } }), options.timeoutMs);
      reply.raw.on('close', () => {
        state.closed = true;
        release();
        unsubscribe();
        clearInterval(keepalive);
        clearTimeout(timeout);
      });
      run();
    });
}
