import { Type } from '@sinclair/typebox';
import type { Services } from '../../services/index.js';
import { allowsAgent } from '../../services/keys/agent-restriction.js';
import { authOf, requireScope } from '../auth.js';
import { ErrorEnvelopeSchema, RateLimitedResponseSchema } from '../errors.js';
import { assertStillStanding, streamCredentialCheck, streamSlotsOf } from '../stream-credential.js';
import type { TollgateApp } from '../type-provider.js';

const Status = Type.Union(['pending', 'approved', 'denied', 'expired'].map((s) => Type.Literal(s)));
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const PermissionRequestSchema = Type.Object(
  {
    id: Type.Integer(),
    agent_id: Type.Integer(),
    status: Status,
    permissions: Type.Object({}, { additionalProperties: true }),
    justification: NullableString,
    created_at: Type.String({ format: 'date-time' }),
    expires_at: Type.String({ format: 'date-time' }),
    decided_at: NullableString,
    decided_by: NullableString,
    comment: NullableString,
  },
  { $id: 'PermissionRequest', title: 'PermissionRequest' },
);

const CreateBody = Type.Object(
  {
    agent_id: Type.Integer({ minimum: 1 }),
    permissions: Type.Object({}, { additionalProperties: true }),
    justification: Type.Optional(Type.Union([Type.String({ maxLength: 4000 }), Type.Null()])),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000 })),
  },
  { additionalProperties: false },
);
const DecisionBody = Type.Union([
  Type.Object({ approver: Type.Optional(Type.String({ maxLength: 200 })), comment: Type.Optional(Type.String({ maxLength: 4000 })) }, { additionalProperties: false }),
  Type.Null(),
]);
const Params = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 403: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema, 409: ErrorEnvelopeSchema };
const tags = ['permission requests'];

/**
 * `/api/sdk/permission-requests` (seed 004): agents create and wait (scope `agents`); people approve or deny
 * (scope `approvals`). `GET /:id?wait_ms=` long-polls until the request is decided (max 30 s).
 *
 * @example
 * registerPermissionRequestRoutes(app, services);
 */
export function registerPermissionRequestRoutes(app: TollgateApp, services: Services): void {
  const requests = services.permissionRequests;
  const slots = streamSlotsOf(services);
  const credential = streamCredentialCheck(services, 'agents');
  // A key restricted to agents asks, lists and waits only for its own agents (matched by the agent's name).
  app.post('/api/sdk/permission-requests', { ...requireScope('agents', { checksAgentRestriction: true }), schema: { tags, summary: 'Create a permission request', body: CreateBody, response: { 201: PermissionRequestSchema, ...errors } } },
    async (request, reply) => {
      const auth = authOf(request);
      await services.sandboxAgents.assertAllowed(auth.tenantId, request.body.agent_id, auth);
      return reply.code(201).send(await requests.create(auth.tenantId, request.body, auth.keyId));
    });
  app.get('/api/sdk/permission-requests', { ...requireScope('agents', { checksAgentRestriction: true }), schema: { tags, summary: 'List requests by status', querystring: Type.Object({ status: Type.Optional(Status) }, { additionalProperties: false }), response: { 200: Type.Object({ requests: Type.Array(PermissionRequestSchema) }), ...errors } } },
    async (request) => {
      const auth = authOf(request);
      const all = await requests.list(auth.tenantId, request.query.status as never);
      if (auth.agentIds === undefined) return { requests: all };
      const own = new Set((await services.sandboxAgents.list(auth.tenantId)).filter((agent) => allowsAgent(auth, agent.name)).map((agent) => agent.id));
      return { requests: all.filter((item) => own.has(item.agent_id)) };
    });
  app.get('/api/sdk/permission-requests/:id', { ...requireScope('agents', { checksAgentRestriction: true }), schema: { tags, summary: 'Get a request; with wait_ms, wait until it is decided', params: Params, querystring: Type.Object({ wait_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 30_000 })) }, { additionalProperties: false }), response: { 200: PermissionRequestSchema, ...errors, 429: RateLimitedResponseSchema } } },
    async (request) => {
      const auth = authOf(request);
      if (auth.agentIds !== undefined) await services.sandboxAgents.assertAllowed(auth.tenantId, (await requests.get(auth.tenantId, request.params.id)).agent_id, auth);
      const waitMs = request.query.wait_ms ?? 0;
      if (waitMs === 0) return requests.get(auth.tenantId, request.params.id);
      // A waiting poll holds a connection like a stream does: one of the tenant's stream slots
      // (TOLLGATE_MAX_STREAMS_PER_TENANT), and its answer only while the credential that opened it still stands.
      const release = slots.acquire(auth.tenantId, auth.keyId);
      try {
        const answer = await requests.waitForDecision(auth.tenantId, request.params.id, waitMs, request.signal);
        await assertStillStanding(credential, request, auth);
        return answer;
      } finally {
        release();
      }
    });
  for (const action of ['approve', 'deny'] as const) {
    app.post(`/api/sdk/permission-requests/:id/${action}`, { ...requireScope('approvals'), schema: { tags, summary: `${action === 'approve' ? 'Approve' : 'Deny'} a pending request`, params: Params, body: DecisionBody, response: { 200: PermissionRequestSchema, ...errors } } },
      async (request) => {
        const { tenantId, keyId } = authOf(request);
        const decision = { approver: request.body?.approver ?? keyId, comment: request.body?.comment ?? null, keyId };
        return action === 'approve' ? requests.approve(tenantId, request.params.id, decision) : requests.deny(tenantId, request.params.id, decision);
      });
  }
}
