import { Type } from '@sinclair/typebox';
import type { Services } from '../../services/index.js';
import { allowsAgent } from '../../services/keys/agent-restriction.js';
import { toAgentView } from '../../services/sandbox/agent-service.js';
import { authOf, requireScope } from '../auth.js';
import { ErrorEnvelopeSchema, RateLimitedResponseSchema } from '../errors.js';
import type { TollgateApp } from '../type-provider.js';
import { ExecutionResponseSchema } from './executions.js';

const FreeObject = Type.Object({}, { additionalProperties: true });

export const SandboxAgentSchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    version: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    status: Type.String(),
    config: FreeObject,
    entry_code: Type.Optional(Type.String()),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'SandboxAgent', title: 'SandboxAgent' },
);

const AgentFields = {
  version: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
  entry_code: Type.Optional(Type.String({ maxLength: 1_048_576 })),
  config: Type.Optional(FreeObject),
  status: Type.Optional(Type.String({ maxLength: 32 })),
};
const CreateAgentBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), ...AgentFields }, { additionalProperties: false });
const UpdateAgentBody = Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), ...AgentFields }, { additionalProperties: false });
const AgentParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const ContextParams = Type.Object({ id: Type.Integer({ minimum: 1 }), key: Type.String({ minLength: 1, maxLength: 256 }) });
const ExecuteBody = Type.Union([Type.Object({ input: Type.Optional(Type.Unknown()) }, { additionalProperties: false }), Type.Null()]);
const AgentAnswer = Type.Object({ success: Type.Boolean(), agent: SandboxAgentSchema });
const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 403: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema, 409: ErrorEnvelopeSchema };
/** Execute also answers 429 `RATE_LIMITED` when the agent's executions-per-hour quota is used up. */
const executeErrors = { ...errors, 429: RateLimitedResponseSchema };
const tags = ['sandbox agents'];

/**
 * `/api/v1/sdk/agents` (seed 004): register/upsert, list, get, patch, delete with executions, synchronous
 * execute, and the per-agent context store that `read_context` reads. Scope `agents`.
 *
 * @example
 * registerSdkAgentRoutes(app, services);
 */
export function registerSdkAgentRoutes(app: TollgateApp, services: Services): void {
  const { sandboxAgents: agents, executions } = services;
  app.post('/api/v1/sdk/agents', { ...requireScope('agents', { checksAgentRestriction: true }), schema: { tags, summary: 'Register or upsert an agent by name', body: CreateAgentBody, response: { 200: AgentAnswer, 201: AgentAnswer, ...errors } } },
    async (request, reply) => {
      const auth = authOf(request);
      const { agent, created } = await agents.upsert(auth.tenantId, request.body, auth.keyId, auth);
      return reply.code(created ? 201 : 200).send({ success: true, agent: toAgentView(agent) });
    });
  app.get('/api/v1/sdk/agents', { ...requireScope('agents', { checksAgentRestriction: true }), schema: { tags, summary: 'List agents of the tenant', response: { 200: Type.Object({ success: Type.Boolean(), agents: Type.Array(SandboxAgentSchema) }), ...errors } } },
    async (request) => {
      const auth = authOf(request);
      return { success: true, agents: (await agents.list(auth.tenantId)).filter((agent) => allowsAgent(auth, agent.name)).map((agent) => toAgentView(agent)) };
    });
  app.get('/api/v1/sdk/agents/:id', { ...requireScope('agents', { checksAgentRestriction: true }), schema: { tags, summary: 'Get one agent, with its code', params: AgentParams, response: { 200: AgentAnswer, ...errors } } },
    async (request) => ({ success: true, agent: toAgentView(await agents.getAllowed(authOf(request).tenantId, request.params.id, authOf(request)), true) }));
  app.patch('/api/v1/sdk/agents/:id', { ...requireScope('agents', { checksAgentRestriction: true }), schema: { tags, summary: 'Update code, config or status', params: AgentParams, body: UpdateAgentBody, response: { 200: AgentAnswer, ...errors } } },
    async (request) => {
      const auth = authOf(request);
      return { success: true, agent: toAgentView(await agents.update(auth.tenantId, request.params.id, request.body, auth.keyId, auth), true) };
    });
  app.delete('/api/v1/sdk/agents/:id', { ...requireScope('agents'), schema: { tags, summary: 'Delete an agent with its executions, context store and compliance evaluations', params: AgentParams, response: { 200: Type.Object({ success: Type.Boolean() }), ...errors } } },
    async (request) => {
      const { tenantId, keyId } = authOf(request);
      await agents.delete(tenantId, request.params.id, keyId);
      return { success: true };
    });
  app.post('/api/v1/sdk/agents/:id/execute', { ...requireScope('agents', { checksAgentRestriction: true }), schema: { tags, summary: 'Execute the agent in the sandbox (synchronous)', params: AgentParams, body: ExecuteBody, response: { 200: ExecutionResponseSchema, ...executeErrors } } },
    async (request) => {
      const auth = authOf(request);
      await agents.assertAllowed(auth.tenantId, request.params.id, auth);
      return executions.execute(auth.tenantId, request.params.id, request.body?.input ?? null, auth.keyId);
    });
  app.put('/api/v1/sdk/agents/:id/context/:key', { ...requireScope('agents', { checksAgentRestriction: true }), schema: { tags, summary: 'Set a value in the agent context store (read by read_context)', params: ContextParams, body: Type.Object({ value: Type.Unknown() }, { additionalProperties: false }), response: { 200: Type.Object({ key: Type.String(), value: Type.Unknown() }), ...errors } } },
    async (request) => {
      await agents.assertAllowed(authOf(request).tenantId, request.params.id, authOf(request));
      await agents.setContext(authOf(request).tenantId, request.params.id, request.params.key, request.body.value);
      return { key: request.params.key, value: request.body.value ?? null };
    });
  app.get('/api/v1/sdk/agents/:id/context/:key', { ...requireScope('agents', { checksAgentRestriction: true }), schema: { tags, summary: 'Read a value of the agent context store', params: ContextParams, response: { 200: Type.Object({ key: Type.String(), value: Type.Unknown() }), ...errors } } },
    async (request) => {
      await agents.assertAllowed(authOf(request).tenantId, request.params.id, authOf(request));
      return { key: request.params.key, value: await agents.getContext(authOf(request).tenantId, request.params.id, request.params.key) };
    });
}
