import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { TollgateError, bundleChunks, parseIsoTime } from '@tollgate/core';
import type { LedgerRecord } from '@tollgate/core';
import type { Services } from '../../services/index.js';
import { parseStoredRecord, summarize, toCsv, toEventView } from '../../services/ledger/index.js';
import type { LedgerRecordFilter } from '../../store/repositories/ledger.js';
import { authOf, requireScope } from '../auth.js';
import { StreamSlots } from '../stream-credential.js';
import { ErrorEnvelopeSchema, RateLimitedResponseSchema } from '../errors.js';
import type { TollgateApp } from '../type-provider.js';
import { registerAuditStream } from './audit-stream.js';
import type { AuditStreamOptions } from './audit-stream.js';

const tags = ['audit'];
const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 403: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema, 422: ErrorEnvelopeSchema };
/** Most records one `/export` returns (larger logs: use `/bundle` or page `/records`). */
export const MAX_EXPORT_RECORDS = 100_000;
/** Response header of `/export` (every format): `true` when the export stopped at {@link MAX_EXPORT_RECORDS} or at `TOLLGATE_AUDIT_EXPORT_MAX_BYTES`. */
export const TRUNCATED_HEADER = 'x-tollgate-truncated';
const Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });

const FilterQuery = {
  from: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 date or date-time (inclusive)' })),
  to: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 date (whole day) or date-time (inclusive)' })),
  actionTypes: Type.Optional(Type.String({ maxLength: 2000, description: 'comma-separated record types' })),
  violationsOnly: Type.Optional(Type.Boolean()),
  agentId: Type.Optional(Type.String({ maxLength: 200 })),
  executionId: Type.Optional(Type.String({ maxLength: 200 })),
};
const RecordsQuery = Type.Object({
  ...FilterQuery,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,15})$' })),
});
const ExportQuery = Type.Object({ ...FilterQuery, format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('summary')], { default: 'json' })) });
const Index = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const BundleQuery = Type.Object({
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('jsonl')], { description: 'json (default): one document, logs up to TOLLGATE_AUDIT_BUNDLE_JSON_MAX_RECORDS; jsonl: streamed lines, any size' })),
  from: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'jsonl only: first record (the size of a checkpoint kept from an earlier export)' })),
});
/** Response headers of a JSON Lines bundle: its first record and the log size it ends at (for progress). */
export const BUNDLE_FROM_HEADER = 'x-tollgate-bundle-from';
export const BUNDLE_TO_HEADER = 'x-tollgate-bundle-to';

/** Shape of `GET /api/v1/audit/checkpoint` (documented; not enforced, the route can also answer text). */
export const CheckpointSchema = Type.Object({
  origin: Type.String(),
  size: Type.Integer(),
  rootHash: Hex,
  note: Type.String(),
  publicKey: Type.String(),
  createdAt: Type.String(),
  cosignatures: Type.Array(Type.Object({ witness: Type.String(), signedAt: Type.String() })),
});
const InclusionSchema = Type.Object({ index: Type.Integer(), size: Type.Integer(), leafHash: Hex, rootHash: Hex, proof: Type.Array(Hex) });
const ConsistencySchema = Type.Object({ from: Type.Integer(), to: Type.Integer(), fromRootHash: Hex, toRootHash: Hex, proof: Type.Array(Hex) });

function parseTime(value: string | undefined, name: string, endOfDay: boolean): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = parseIsoTime(value, { endOfDay });
  if (ms === undefined) throw new TollgateError('VALIDATION_FAILED', `${name} must be an ISO 8601 date or date-time`, { details: { field: name } });
  return ms;
}

/**
 * Seed 004's action-type names (`actionTypes: ['api_call', 'permission_denied']`) as aliases of Tollgate record
 * types, so a seed query does not silently match nothing. `api_call`: every sandbox host call;
 * `permission_denied`: the refused ones (host calls with `is_violation`) and policy violations of `/v1/enforce`.
 */
export const SEED_ACTION_TYPE_ALIASES: Readonly<Record<string, readonly string[]>> = {
  api_call: ['sandbox.host_call'],
  permission_denied: ['sandbox.host_call', 'enforcement.violation'],
};
/** Record types that are always violations, so `violationsOnly` does not narrow them. */
const ALWAYS_VIOLATIONS = new Set(['rate_limit_hit', 'sandbox_limit_hit', 'enforcement.violation']);

/**
 * Expands the seed aliases. `permission_denied` means violations only; the store filters violations for the whole
 * query, so it can be combined with types that are violations anyway or with `api_call` (whose host calls include
 * the refused ones), and anything else is refused rather than answered wrongly.
 */
function expandActionTypes(requested: string[] | undefined, violationsOnly: boolean | undefined): { types: string[] | undefined; violationsOnly: boolean | undefined } {
  if (requested === undefined) return { types: undefined, violationsOnly };
  const types = [...new Set(requested.flatMap((type) => SEED_ACTION_TYPE_ALIASES[type] ?? [type]))];
  if (!requested.includes('permission_denied') || violationsOnly === true) return { types, violationsOnly };
  const others = requested.filter((type) => type !== 'permission_denied').flatMap((type) => SEED_ACTION_TYPE_ALIASES[type] ?? [type]);
  if (others.includes('sandbox.host_call')) return { types, violationsOnly };
  if (others.every((type) => ALWAYS_VIOLATIONS.has(type))) return { types, violationsOnly: true };
  throw new TollgateError('VALIDATION_FAILED', 'actionTypes: permission_denied can be combined only with api_call, rate_limit_hit, sandbox_limit_hit or enforcement.violation (or with violationsOnly=true); query the others separately', { details: { field: 'actionTypes' } });
}

/** The record filter of `/records`, `/export` (shared with the stream's filters). */
export function filterFromQuery(query: { from?: string; to?: string; actionTypes?: string; violationsOnly?: boolean; agentId?: string; executionId?: string }): LedgerRecordFilter {
  const requested = query.actionTypes?.split(',').map((t) => t.trim()).filter((t) => t !== '');
  const { types, violationsOnly } = expandActionTypes(requested, query.violationsOnly);
  return {
    fromMs: parseTime(query.from, 'from', false),
    toMs: parseTime(query.to, 'to', true),
    types,
    violationsOnly,
    agentId: query.agentId,
    executionId: query.executionId,
  };
}

function streamOptionsOf(services: Services): AuditStreamOptions {
  return { keepaliveMs: services.config.auditStreamKeepaliveMs, timeoutMs: services.config.auditStreamTimeoutMs };
}

/**
 * Reads the records of an export, up to MAX_EXPORT_RECORDS and `TOLLGATE_AUDIT_EXPORT_MAX_BYTES` of stored record
 * text (a few large records must not let one `audit:read` key exhaust the server's memory).
 */
async function exportRecords(services: Services, tenantId: string, filter: LedgerRecordFilter): Promise<{ records: LedgerRecord[]; truncated: boolean }> {
  const records: LedgerRecord[] = [];
  const maxBytes = services.config.auditExportMaxBytes;
  let bytes = 0;
  let afterIndex: number | undefined;
  while (records.length < MAX_EXPORT_RECORDS) {
    const page = await services.store.ledger.records(tenantId, { ...filter, afterIndex }, Math.min(5_000, MAX_EXPORT_RECORDS - records.length));
    for (const stored of page) {
      bytes += stored.body.length;
      if (bytes > maxBytes) return { records, truncated: true };
      records.push(parseStoredRecord(stored));
    }
    if (page.length < 5_000) break;
    afterIndex = page.at(-1)?.index;
  }
  return { records, truncated: records.length >= MAX_EXPORT_RECORDS };
}

/**
 * Audit routes of the ledger: checkpoints, proofs, witness cosignatures, queries, exports, record verification,
 * offline bundles, and the live SSE stream. See docs/ledger.md.
 *
 * @example
 * registerAuditRoutes(app, services);
 */
export function registerAuditRoutes(app: TollgateApp, services: Services, stream: AuditStreamOptions = streamOptionsOf(services)): void {
  const ledger = services.ledger;
  const read = requireScope('audit:read');
  // Bundle exports and record exports of a tenant share these slots: each reads much of the log into memory or out.
  const exportSlots = new StreamSlots(services.config.auditBundleExportsPerTenant, { noun: 'ledger exports running', limit: 'bundle_exports_per_tenant' });

  app.get('/api/v1/audit/checkpoint', { ...read, schema: { tags, summary: 'Latest signed checkpoint (C2SP signed note)', querystring: Type.Object({ format: Type.Optional(Type.Literal('note')) }) } },
    async (request, reply) => {
      const checkpoint = await ledger.checkpoint(authOf(request).tenantId);
      if (request.query.format === 'note') return reply.type('text/plain; charset=utf-8').send(checkpoint.note);
      return checkpoint;
    });

  app.get('/api/v1/audit/proof/inclusion', { ...read, schema: { tags, summary: 'Inclusion proof of one record', querystring: Type.Object({ index: Index, size: Type.Optional(Index) }), response: { 200: InclusionSchema, ...errors } } },
    async (request) => ledger.inclusionProof(authOf(request).tenantId, request.query.index, request.query.size));

  app.get('/api/v1/audit/proof/consistency', { ...read, schema: { tags, summary: 'Consistency proof between two log sizes', querystring: Type.Object({ from: Index, to: Index }), response: { 200: ConsistencySchema, ...errors } } },
    async (request) => ledger.consistencyProof(authOf(request).tenantId, request.query.from, request.query.to));

  app.post('/api/v1/audit/checkpoint/cosign', { ...requireScope('admin'), schema: { tags, summary: 'Submit witness cosignatures of a checkpoint', body: Type.Object({ note: Type.String({ minLength: 1, maxLength: 65_536 }) }, { additionalProperties: false }), response: { 200: Type.Object({ size: Type.Integer(), accepted: Type.Array(Type.String()) }), ...errors } } },
    async (request) => ledger.addCosignatures(authOf(request).tenantId, request.body.note));

  app.get('/api/v1/audit/records', { ...read, schema: { tags, summary: 'Query the audit trail (oldest first)', querystring: RecordsQuery } },
    async (request) => {
      const { tenantId } = authOf(request);
      const filter = filterFromQuery(request.query);
      const limit = request.query.limit ?? 100;
      const afterIndex = request.query.cursor === undefined ? undefined : Number(request.query.cursor);
      const [rows, total, checkpoint] = await Promise.all([
        services.store.ledger.records(tenantId, { ...filter, afterIndex }, limit),
        services.store.ledger.count(tenantId, filter),
        services.store.ledger.latestCheckpoint(tenantId),
      ]);
      const last = rows.at(-1)?.index;
      return {
        events: rows.map((row) => toEventView(parseStoredRecord(row))),
        total,
        anchored: last === undefined || (checkpoint !== undefined && checkpoint.size > last),
        nextCursor: rows.length === limit && last !== undefined ? String(last) : null,
      };
    });

  app.get('/api/v1/audit/records/:id/verify', { ...read, schema: { tags, summary: 'Verify one record against the latest signed checkpoint', params: Type.Object({ id: Index }) } },
    async (request) => ledger.verifyRecord(authOf(request).tenantId, request.params.id));

  app.get('/api/v1/audit/export', { ...read, schema: { tags, summary: 'Export the audit trail as json, csv or summary', querystring: ExportQuery } },
    async (request, reply) => {
      const { tenantId } = authOf(request);
      // An export holds up to TOLLGATE_AUDIT_EXPORT_MAX_BYTES of records (and more as its answer) in memory: it takes
      // one of the tenant's export slots, shared with bundle exports, until the answer is sent or cut. Without it one
      // audit:read key running exports in parallel took the server to gigabytes of memory.
      const release = exportSlots.acquire(tenantId);
      reply.raw.once('close', release);
      let exported: Awaited<ReturnType<typeof exportRecords>>;
      try {
        exported = await exportRecords(services, tenantId, filterFromQuery(request.query));
      } catch (error) {
        release();
        throw error;
      }
      const { records, truncated } = exported;
      const format = request.query.format ?? 'json';
      // Every format says whether the export stopped at a cap (CSV has no other place to say it).
      reply.header(TRUNCATED_HEADER, String(truncated));
      if (format === 'csv') {
        const name = `audit-${tenantId.replace(/[^A-Za-z0-9_-]/g, '_')}-${new Date(services.clock.now()).toISOString().slice(0, 10)}.csv`;
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).send(toCsv(records));
      }
      const checkpoint = await services.store.ledger.latestCheckpoint(tenantId);
      const anchored = records.length === 0 || (checkpoint !== undefined && checkpoint.size > (records.at(-1)?.index ?? 0));
      if (format === 'summary') return { ...summarize(records), anchored, truncated };
      return { events: records.map(toEventView), total: records.length, anchored, truncated };
    });

  app.get('/api/v1/audit/bundle', { ...read, schema: { tags, summary: 'The log for offline verification (tollgate audit verify): one JSON document, or JSON Lines streamed from any record on', querystring: BundleQuery, response: { 200: Type.Unknown({ description: 'a ledger bundle (JSON) or its lines (application/x-ndjson)' }), 429: RateLimitedResponseSchema } } },
    async (request, reply) => {
      const { tenantId } = authOf(request);
      if (request.query.format !== 'jsonl' && request.query.from !== undefined) {
        throw new TollgateError('VALIDATION_FAILED', 'from needs format=jsonl (a one-document bundle always starts at record 0)', { details: { field: 'from' } });
      }
      // Each export reads the whole log: a few at once per tenant, the slot held until the answer is sent or cut
      // (the response's 'close'). The one-document bundle too: its serialised answer (tens of MB) stays in memory
      // while a slow client reads it, so giving the slot back once the object was built let slow readers pile up.
      const release = exportSlots.acquire(tenantId);
      reply.raw.once('close', release);
      if (request.query.format !== 'jsonl') {
        try {
          return await ledger.bundle(tenantId);
        } catch (error) {
          release();
          throw error;
        }
      }
      let bundle;
      try {
        bundle = await ledger.bundleLines(tenantId, { from: request.query.from });
      } catch (error) {
        release();
        throw error;
      }
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header(BUNDLE_FROM_HEADER, String(bundle.from))
        .header(BUNDLE_TO_HEADER, String(bundle.to))
        .send(Readable.from(bundleChunks(bundle.lines)));
    });

  app.get('/api/v1/audit/public-key', { ...read, schema: { tags, summary: "Verifier key of this tenant's checkpoints", response: { 200: Type.Object({ origin: Type.String(), publicKey: Type.String() }), ...errors } } },
    async (request) => {
      const { tenantId } = authOf(request);
      return { origin: ledger.originOf(tenantId), publicKey: await ledger.publicKey(tenantId) };
    });

  registerAuditStream(app, services, stream);
}
