import { Type } from '@sinclair/typebox';
import type { Services } from '../../services/index.js';
import { MAX_EVENT_PAGE_SIZE, MAX_EVENTS_PER_BATCH } from '../../services/events/index.js';
import { assertAgentAllowed } from '../../services/keys/index.js';
import { authOf, requireScope } from '../auth.js';
import { ErrorEnvelopeSchema } from '../errors.js';
import type { TollgateApp } from '../type-provider.js';

const Id = (description: string) => Type.String({ minLength: 1, maxLength: 256, description });

/** A BehavioralEvent as sent by `@tollgate/sdk` (docs/wire-contract.md). */
export const BehavioralEventSchema = Type.Object(
  {
    eventId: Type.String({ minLength: 1, maxLength: 128, description: 'Dedupe key (a UUID)' }),
    eventType: Type.Union([Type.Literal('TOOL_CALL_PRE'), Type.Literal('TOOL_CALL_POST')]),
    sourceType: Type.Union([Type.Literal('SDK'), Type.Literal('SANDBOX'), Type.Literal('API')]),
    agentId: Id('Agent id'),
    tenantId: Type.Optional(Id('Must equal the API key’s tenant')),
    userId: Id('User on whose behalf the agent acts'),
    sessionId: Id('Session id'),
    toolName: Id('Tool name'),
    callId: Id('Id shared by the PRE and POST events of one call'),
    decisionId: Type.Optional(Id('Enforcement decision id')),
    timestamp: Type.String({ format: 'date-time' }),
    durationMs: Type.Optional(Type.Number({ minimum: 0 })),
    outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('error'), Type.Literal('blocked')])),
    arguments: Type.Optional(Type.Unknown()),
    result: Type.Optional(Type.Unknown()),
    redaction: Type.Union([Type.Literal('full'), Type.Literal('hashed'), Type.Literal('none')]),
    error: Type.Optional(Type.String({ maxLength: 10_000 })),
  },
  { additionalProperties: false },
);

const StoredEventSchema = Type.Object({
  eventId: Type.String(),
  eventType: Type.String(),
  sourceType: Type.String(),
  agentId: Type.String(),
  tenantId: Type.String(),
  userId: Type.String(),
  sessionId: Type.String(),
  toolName: Type.String(),
  callId: Type.String(),
  decisionId: Type.Union([Type.String(), Type.Null()]),
  timestamp: Type.String({ format: 'date-time' }),
  receivedAt: Type.String({ format: 'date-time' }),
  durationMs: Type.Union([Type.Number(), Type.Null()]),
  outcome: Type.Union([Type.String(), Type.Null()]),
  redaction: Type.String(),
  arguments: Type.Optional(Type.Unknown()),
  result: Type.Optional(Type.Unknown()),
  error: Type.Union([Type.String(), Type.Null()]),
});

const BatchBody = Type.Object({ events: Type.Array(BehavioralEventSchema, { maxItems: MAX_EVENTS_PER_BATCH }) }, { additionalProperties: false });

const ListQuery = Type.Object(
  {
    sessionId: Type.Optional(Type.String({ maxLength: 256 })),
    agentId: Type.Optional(Type.String({ maxLength: 256 })),
    cursor: Type.Optional(Type.String({ maxLength: 100 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EVENT_PAGE_SIZE })),
  },
  { additionalProperties: false },
);

/**
 * `POST /v1/events/batch` (scope `events:write`): store SDK events exactly once (dedupe by event id), 202
 * `{ accepted, duplicates }`. `GET /api/v1/events` (scope `audit:read`): newest first, keyset-paginated.
 *
 * @example
 * registerEventRoutes(app, services);
 */
export function registerEventRoutes(app: TollgateApp, services: Services): void {
  const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 403: ErrorEnvelopeSchema };
  app.post(
    '/v1/events/batch',
    {
      ...requireScope('events:write'),
      schema: {
        tags: ['events'],
        summary: 'Ingest a batch of SDK behavioural events (idempotent per eventId)',
        body: BatchBody,
        response: { 202: Type.Object({ accepted: Type.Integer(), duplicates: Type.Integer() }), ...errors, 413: ErrorEnvelopeSchema },
      },
    },
    async (request, reply) => {
      const auth = authOf(request);
      // All or nothing: one event naming an agent outside the key's restriction refuses the whole batch.
      for (const event of request.body.events) assertAgentAllowed(auth, event.agentId);
      const result = await services.events.ingest(auth.tenantId, request.body.events);
      return reply.code(202).send(result);
    },
  );
  app.get(
    '/api/v1/events',
    {
      ...requireScope('audit:read'),
      schema: {
        tags: ['events'],
        summary: 'List behavioural events, newest first, by session and/or agent',
        querystring: ListQuery,
        response: { 200: Type.Object({ events: Type.Array(StoredEventSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errors },
      },
    },
    async (request) => services.events.list(authOf(request).tenantId, request.query),
  );
}
