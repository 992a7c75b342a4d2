import { Type } from '@sinclair/typebox';
import type { Services } from '../../services/index.js';
import { authOf, requireScope } from '../auth.js';
import { ErrorEnvelopeSchema } from '../errors.js';
import type { TollgateApp } from '../type-provider.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const CredentialSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    type: Type.String(),
    description: Nullable(Type.String()),
    status: Type.Union([Type.Literal('active'), Type.Literal('revoked')]),
    created_at: Type.String({ format: 'date-time' }),
    revoked_at: Nullable(Type.String({ format: 'date-time' })),
    rotated_from: Nullable(Type.String()),
    last_used_at: Nullable(Type.String({ format: 'date-time' })),
  },
  { $id: 'Credential', title: 'Credential' },
);

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }),
    value: Type.String({ minLength: 1, maxLength: 16_384 }),
    type: Type.Optional(Type.String({ maxLength: 64 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
const Params = Type.Object({ id: Type.String({ maxLength: 64 }) });
const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 403: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema, 409: ErrorEnvelopeSchema };
const tags = ['credentials'];

/**
 * `/api/v1/sdk/credentials`: store (AES-256-GCM), list, get, rotate (atomic), revoke. Values are write-only:
 * no response ever contains one. Scope `agents`.
 *
 * @example
 * registerCredentialRoutes(app, services);
 */
export function registerCredentialRoutes(app: TollgateApp, services: Services): void {
  const { credentials } = services;
  app.post('/api/v1/sdk/credentials', { ...requireScope('agents'), schema: { tags, summary: 'Encrypt and store a credential', body: CreateBody, response: { 201: CredentialSchema, ...errors } } },
    async (request, reply) => {
      const { tenantId, keyId } = authOf(request);
      return reply.code(201).send(await credentials.create(tenantId, request.body, keyId));
    });
  app.get('/api/v1/sdk/credentials', { ...requireScope('agents'), schema: { tags, summary: 'List credentials (metadata only)', response: { 200: Type.Object({ credentials: Type.Array(CredentialSchema) }), ...errors } } },
    async (request) => ({ credentials: await credentials.list(authOf(request).tenantId) }));
  app.get('/api/v1/sdk/credentials/:id', { ...requireScope('agents'), schema: { tags, summary: 'Get credential metadata', params: Params, response: { 200: CredentialSchema, ...errors } } },
    async (request) => credentials.get(authOf(request).tenantId, request.params.id));
  app.post('/api/v1/sdk/credentials/:id/rotate', { ...requireScope('agents'), schema: { tags, summary: 'Revoke the credential and store a new value under its name, atomically', params: Params, body: Type.Object({ value: CreateBody.properties.value }, { additionalProperties: false }), response: { 201: CredentialSchema, ...errors } } },
    async (request, reply) => {
      const { tenantId, keyId } = authOf(request);
      return reply.code(201).send(await credentials.rotate(tenantId, request.params.id, request.body.value, keyId));
    });
  app.delete('/api/v1/sdk/credentials/:id', { ...requireScope('agents'), schema: { tags, summary: 'Revoke a credential', params: Params, response: { 200: CredentialSchema, ...errors } } },
    async (request) => {
      const { tenantId, keyId } = authOf(request);
      return credentials.revoke(tenantId, request.params.id, keyId);
    });
}
