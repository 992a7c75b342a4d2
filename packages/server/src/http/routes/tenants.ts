import { TollgateError } from '@tollgate/core';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Services } from '../../services/index.js';
import { MAX_RETENTION_DAYS, SYSTEM_TENANT_ID, TENANT_ID_PATTERN } from '../../services/tenants/index.js';
import type { Tenant } from '../../store/index.js';
import { authOf, requireScope } from '../auth.js';
import { ErrorEnvelopeSchema } from '../errors.js';
import type { TollgateApp } from '../type-provider.js';

export const TenantSchema = Type.Object(
  {
    id: Type.String(), name: Type.String(), createdAt: Type.String({ format: 'date-time' }),
    retentionDays: Type.Union([Type.Integer(), Type.Null()], { description: "The tenant's own data-retention period in days; null = the server's TOLLGATE_RETENTION_DAYS, 0 = keep everything" }),
  },
  { $id: 'Tenant', title: 'Tenant' },
);

const UpdateTenantBody = Type.Object(
  {
    retentionDays: Type.Union([Type.Integer({ minimum: 0, maximum: MAX_RETENTION_DAYS }), Type.Null()], {
      description: "Days of data retention for this tenant (0 = keep everything); null = the server's TOLLGATE_RETENTION_DAYS",
    }),
  },
  { additionalProperties: false },
);

const CreateTenantBody = Type.Object(
  {
    id: Type.String({ pattern: TENANT_ID_PATTERN, description: 'Slug: lower-case letters, digits, . _ -' }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

const TenantParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

function tenantView(tenant: Tenant) {
  return { id: tenant.id, name: tenant.name, createdAt: new Date(tenant.createdAt).toISOString(), retentionDays: tenant.retentionDays ?? null };
}

/** True when the caller's key belongs to the operator's tenant, which manages every tenant. */
export function isSystemCaller(request: FastifyRequest): boolean {
  return authOf(request).tenantId === SYSTEM_TENANT_ID;
}

/**
 * `/api/v1/tenants`: create (operator's tenant only), list (the operator sees all, others only their own), get, and
 * set a tenant's data-retention period (operator only).
 *
 * @example
 * registerTenantRoutes(app, services);
 */
export function registerTenantRoutes(app: TollgateApp, services: Services): void {
  const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 403: ErrorEnvelopeSchema };
  app.post(
    '/api/v1/tenants',
    { ...requireScope('admin'), schema: { tags: ['tenants'], summary: 'Create a tenant (operator only)', body: CreateTenantBody, response: { 201: TenantSchema, ...errors, 409: ErrorEnvelopeSchema } } },
    async (request, reply) => {
      if (!isSystemCaller(request)) throw new TollgateError('FORBIDDEN', `Only admin keys of tenant ${SYSTEM_TENANT_ID} create tenants`);
      const tenant = await services.tenants.create({ id: request.body.id, name: request.body.name });
      return reply.code(201).send(tenantView(tenant));
    },
  );
  app.get(
    '/api/v1/tenants',
    { ...requireScope('admin'), schema: { tags: ['tenants'], summary: 'List tenants', response: { 200: Type.Object({ tenants: Type.Array(TenantSchema) }), ...errors } } },
    async (request) => {
      const tenants = isSystemCaller(request) ? await services.tenants.list() : [await services.tenants.get(authOf(request).tenantId)];
      return { tenants: tenants.map(tenantView) };
    },
  );
  app.get(
    '/api/v1/tenants/:id',
    { ...requireScope('admin'), schema: { tags: ['tenants'], summary: 'Get a tenant', params: TenantParams, response: { 200: TenantSchema, ...errors, 404: ErrorEnvelopeSchema } } },
    async (request) => {
      const { id } = request.params;
      if (!isSystemCaller(request) && id !== authOf(request).tenantId) throw new TollgateError('NOT_FOUND', `Tenant ${id} not found`);
      return tenantView(await services.tenants.get(id));
    },
  );
  app.patch(
    '/api/v1/tenants/:id',
    {
      ...requireScope('admin'),
      schema: { tags: ['tenants'], summary: "Set a tenant's data-retention period (operator only)", params: TenantParams, body: UpdateTenantBody, response: { 200: TenantSchema, ...errors, 404: ErrorEnvelopeSchema } },
    },
    async (request) => {
      if (!isSystemCaller(request)) throw new TollgateError('FORBIDDEN', `Only admin keys of tenant ${SYSTEM_TENANT_ID} set retention periods`);
      return tenantView(await services.tenants.setRetention(request.params.id, request.body.retentionDays));
    },
  );
}
