import { TollgateError } from '@tollgate/core';
import { Type } from '@sinclair/typebox';
import type { Services } from '../../services/index.js';
import {
  buildOverview,
  findViolationLedgerIndex,
  listCalls,
  listSessions,
  listViolations,
  MAX_CALLS_PAGE,
} from '../../services/dashboard/index.js';
import { authOf, requireScope } from '../auth.js';
import { ErrorEnvelopeSchema } from '../errors.js';
import type { TollgateApp } from '../type-provider.js';

const Text = (maxLength = 256) => Type.Optional(Type.String({ maxLength }));
const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CALLS_PAGE, default: 50 }));
const Cursor = Type.Optional(Type.String({ maxLength: 400 }));
const DateText = Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 date or date-time' }));

/**
 * An ISO 8601 date (whole day in UTC) or date-time. Anything else is refused, as on the audit routes: Date.parse
 * also reads "1" (the year 2001) or "May 5" (in the server's time zone), which would filter by a time nobody asked for.
 */
function parseDate(value: string | undefined, field: string, endOfDay: boolean): number | undefined {
  if (value === undefined || value === '') return undefined;
  const bareDate = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const ms = Date.parse(bareDate ? `${value}T00:00:00.000Z` : value);
  if (!/^\d{4}-\d{2}-\d{2}(T|$)/.test(value) || Number.isNaN(ms)) throw new TollgateError('VALIDATION_FAILED', `${field} must be an ISO date`, { details: [{ field: `querystring/${field}` }] });
  return bareDate && endOfDay ? ms + 86_400_000 - 1 : ms;
}

/**
 * Read-only views the dashboard needs that no area serves as such: overview time series, sessions
 * grouped from events, tool calls joined with their decisions, violations with context. Scope `audit:read`.
 *
 * @example
 * registerDashboardRoutes(app, services);
 */
export function registerDashboardRoutes(app: TollgateApp, services: Services): void {
  const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 403: ErrorEnvelopeSchema };
  const tags = ['dashboard'];
  const options = (summary: string, querystring: ReturnType<typeof Type.Object>) => ({
    ...requireScope('audit:read'),
    schema: { tags, summary, querystring, response: { 200: Type.Unknown(), ...errors } },
  });

  app.get(
    '/api/v1/dashboard/overview',
    options('Calls, decisions and violations over time', Type.Object({ hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 31, default: 24 })) }, { additionalProperties: false })),
    async (request) => {
      const { hours } = request.query as { hours?: number };
      return buildOverview(services.store, authOf(request).tenantId, services.clock.now(), hours ?? 24);
    },
  );

  app.get(
    '/api/v1/dashboard/sessions',
    options('Sessions from recorded events, most recent first', Type.Object({ agentId: Text(), cursor: Cursor, limit: Limit }, { additionalProperties: false })),
    async (request) => {
      const query = request.query as { agentId?: string; cursor?: string; limit?: number };
      return listSessions(services.store, authOf(request).tenantId, { ...query, limit: query.limit ?? 50 });
    },
  );

  app.get(
    '/api/v1/dashboard/calls',
    options(
      'Tool calls (events joined with decisions), newest first',
      Type.Object(
        {
          sessionId: Text(),
          agentId: Text(),
          toolName: Text(),
          outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('error'), Type.Literal('blocked'), Type.Literal('')])),
          cursor: Cursor,
          limit: Limit,
        },
        { additionalProperties: false },
      ),
    ),
    async (request) => {
      const query = request.query as { sessionId?: string; agentId?: string; toolName?: string; outcome?: string; cursor?: string; limit?: number };
      return listCalls(services.store, authOf(request).tenantId, { ...query, limit: query.limit ?? 50 });
    },
  );

  app.get(
    '/api/v1/dashboard/violations',
    options(
      'Violations with their decision context, newest first',
      Type.Object(
        { agentId: Text(), toolName: Text(), sessionId: Text(), from: DateText, to: DateText, cursor: Cursor, limit: Limit },
        { additionalProperties: false },
      ),
    ),
    async (request) => {
      const query = request.query as { agentId?: string; toolName?: string; sessionId?: string; from?: string; to?: string; cursor?: string; limit?: number };
      return listViolations(services.store, authOf(request).tenantId, {
        ...query,
        from: parseDate(query.from, 'from', false),
        to: parseDate(query.to, 'to', true),
        limit: query.limit ?? 25,
      });
    },
  );

  app.get(
    '/api/v1/dashboard/violations/:id/ledger',
    {
      ...requireScope('audit:read'),
      schema: {
        tags,
        summary: 'Index of the ledger record of a violation (then GET /api/v1/audit/records/:index/verify)',
        params: Type.Object({ id: Type.String({ maxLength: 200 }) }),
        response: { 200: Type.Object({ index: Type.Integer() }), 404: ErrorEnvelopeSchema, ...errors },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const index = await findViolationLedgerIndex(services.store, authOf(request).tenantId, id);
      if (index === undefined) throw new TollgateError('NOT_FOUND', `No ledger record found for violation ${id}`);
      return { index };
    },
  );
}
