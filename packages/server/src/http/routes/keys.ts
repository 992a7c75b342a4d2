import { TollgateError } from '@tollgate/core';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { MAX_KEY_AGENT_IDS, MAX_KEY_AGENT_ID_LENGTH, SCOPES, type AuthContext } from '../../services/keys/index.js';
import type { Services } from '../../services/index.js';
import type { ApiKeyRecord } from '../../store/index.js';
import { authOf, requireAnyKey, requireScope } from '../auth.js';
import { ErrorEnvelopeSchema } from '../errors.js';
import type { TollgateApp } from '../type-provider.js';
import { isSystemCaller } from './tenants.js';

const ScopeSchema = Type.Union(SCOPES.map((scope) => Type.Literal(scope)));

export const ApiKeySchema = Type.Object(
  {
    id: Type.String(),
    tenantId: Type.String(),
    name: Type.String(),
    scopes: Type.Array(Type.String()),
    /** Non-secret prefix to recognise the key: `tg_live_<id>_…`. */
    prefix: Type.String(),
    status: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
    createdAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    createdBy: Type.Union([Type.String(), Type.Null()]),
    /** The exact agent ids the key may name; null = every agent of the tenant. */
    agentIds: Type.Union([Type.Array(Type.String()), Type.Null()]),
  },
  { $id: 'ApiKey', title: 'ApiKey' },
);

const CreateKeyBody = Type.Object(
  {
    scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: SCOPES.length, uniqueItems: true }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    expiresAt: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
    tenantId: Type.Optional(Type.String({ maxLength: 64, description: 'Operator only: create the key in another tenant' })),
    agentIds: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: MAX_KEY_AGENT_ID_LENGTH }), {
      minItems: 1, maxItems: MAX_KEY_AGENT_IDS,
      description: 'Restrict the key to these exact agent ids (for sandbox agents: their names; scopes enforce, events:write and agents only); omit for every agent',
    })),
  },
  { additionalProperties: false },
);

const UpdateKeyBody = Type.Object(
  { expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]) },
  { additionalProperties: false },
);

const WhoAmISchema = Type.Object({ tenantId: Type.String(), keyId: Type.String(), scopes: Type.Array(Type.String()), agentIds: Type.Optional(Type.Array(Type.String())) });

/** `GET /api/v1/auth/whoami`: who the presented key is (with `agentIds` when it is restricted to agents). */
const whoAmI = (auth: AuthContext) => ({
  tenantId: auth.tenantId, keyId: auth.keyId, scopes: [...auth.scopes], ...(auth.agentIds ? { agentIds: [...auth.agentIds] } : {}),
});

const KeyParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const TenantQuery = Type.Object({ tenantId: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false });
/** Keys per page of `GET /api/v1/keys` unless `limit` says otherwise (keys bound to agents can number thousands). */
const DEFAULT_KEYS_PER_PAGE = 500;
const ListKeysQuery = Type.Object({
  tenantId: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000, description: `Most keys in the page (default ${DEFAULT_KEYS_PER_PAGE})` })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "The previous page's nextCursor" })),
}, { additionalProperties: false });

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Public view of a key: never the secret or its hash. */
export function apiKeyView(key: ApiKeyRecord, now: number) {
  const status = key.revokedAt !== null ? 'revoked' : key.expiresAt !== null && key.expiresAt <= now ? 'expired' : 'active';
  return {
    id: key.id,
    tenantId: key.tenantId,
    name: key.name,
    scopes: key.scopes,
    prefix: `tg_live_${key.id}_…`,
    status,
    createdAt: new Date(key.createdAt).toISOString(),
    expiresAt: iso(key.expiresAt),
    revokedAt: iso(key.revokedAt),
    createdBy: key.createdBy,
    agentIds: key.agentIds === null ? null : [...key.agentIds],
  } as const;
}

/** The tenant a request acts on: its own, or (operator only) the one it names; others get TENANT_MISMATCH. */
function targetTenant(request: FastifyRequest, requested: string | undefined): string {
  const own = authOf(request).tenantId;
  if (requested === undefined || requested === own) return own;
  if (!isSystemCaller(request)) throw new TollgateError('TENANT_MISMATCH', 'tenantId does not match the API key’s tenant');
  return requested;
}

function parseExpiry(value: string | null | undefined): number | null {
  if (value === undefined || value === null) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new TollgateError('VALIDATION_FAILED', 'body/expiresAt must be an ISO date-time', { details: [{ field: 'body/expiresAt' }] });
  return ms;
}

/**
 * `/api/v1/keys`: create (secret returned once), list, get, revoke, set expiry. Scope `admin`.
 *
 * @example
 * registerKeyRoutes(app, services);
 */
export function registerKeyRoutes(app: TollgateApp, services: Services): void {
  const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 403: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema };
  const now = () => services.clock.now();
  const KeyResponse = Type.Object({ key: ApiKeySchema });
  app.get(
    '/api/v1/auth/whoami',
    // Also served on the direct path (http/direct-routes.ts).
    { config: { ...requireAnyKey().config, direct: whoAmI }, schema: { tags: ['keys'], summary: 'The tenant, key id and scopes of the presented key (any scope)', response: { 200: WhoAmISchema, 401: ErrorEnvelopeSchema } } },
    async (request) => whoAmI(authOf(request)),
  );
  app.post(
    '/api/v1/keys',
    { ...requireScope('admin'), schema: { tags: ['keys'], summary: 'Create an API key (the secret is shown only in this response)', body: CreateKeyBody, response: { 201: Type.Object({ key: ApiKeySchema, secret: Type.String() }), ...errors } } },
    async (request, reply) => {
      const tenantId = targetTenant(request, request.body.tenantId);
      const { record, token } = await services.keys.create({
        tenantId,
        scopes: request.body.scopes,
        name: request.body.name,
        expiresAt: parseExpiry(request.body.expiresAt),
        agentIds: request.body.agentIds,
        createdBy: authOf(request).keyId,
      });
      return reply.code(201).send({ key: apiKeyView(record, now()), secret: token });
    },
  );
  app.get(
    '/api/v1/keys',
    { ...requireScope('admin'), schema: { tags: ['keys'], summary: 'List API keys of the tenant, newest first, a page at a time', querystring: ListKeysQuery, response: { 200: Type.Object({ keys: Type.Array(ApiKeySchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errors } } },
    async (request) => {
      const page = await services.keys.listPage(targetTenant(request, request.query.tenantId), { cursor: request.query.cursor, limit: request.query.limit ?? DEFAULT_KEYS_PER_PAGE });
      return { keys: page.keys.map((key) => apiKeyView(key, now())), nextCursor: page.nextCursor };
    },
  );
  app.get(
    '/api/v1/keys/:id',
    { ...requireScope('admin'), schema: { tags: ['keys'], summary: 'Get an API key', params: KeyParams, querystring: TenantQuery, response: { 200: KeyResponse, ...errors } } },
    async (request) => ({ key: apiKeyView(await services.keys.get(targetTenant(request, request.query.tenantId), request.params.id), now()) }),
  );
  app.post(
    '/api/v1/keys/:id/revoke',
    { ...requireScope('admin'), schema: { tags: ['keys'], summary: 'Revoke an API key (immediate, idempotent)', params: KeyParams, querystring: TenantQuery, response: { 200: KeyResponse, ...errors } } },
    async (request) => {
      const tenantId = targetTenant(request, request.query.tenantId);
      return { key: apiKeyView(await services.keys.revoke(tenantId, request.params.id, authOf(request).keyId), now()) };
    },
  );
  app.patch(
    '/api/v1/keys/:id',
    { ...requireScope('admin'), schema: { tags: ['keys'], summary: 'Set or clear the expiry of an API key', params: KeyParams, querystring: TenantQuery, body: UpdateKeyBody, response: { 200: KeyResponse, ...errors } } },
    async (request) => {
      const tenantId = targetTenant(request, request.query.tenantId);
      const record = await services.keys.setExpiry(tenantId, request.params.id, parseExpiry(request.body.expiresAt), authOf(request).keyId);
      return { key: apiKeyView(record, now()) };
    },
  );
}
