import { Type } from '@sinclair/typebox';
import type { Services } from '../../services/index.js';
import { verifyExecution } from '../../services/executions/verification-service.js';
import { authOf, requireScope } from '../auth.js';
import { ErrorEnvelopeSchema } from '../errors.js';
import type { TollgateApp } from '../type-provider.js';

const FreeObject = Type.Object({}, { additionalProperties: true });
const ErrorField = Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]);

/** The seed's execution response. */
export const ExecutionResponseSchema = Type.Object(
  {
    execution_id: Type.Integer(),
    status: Type.String(),
    output: Type.Unknown(),
    resource_usage: FreeObject,
    host_call_audit: Type.Array(FreeObject),
    violation_count: Type.Integer(),
    was_terminated: Type.Boolean(),
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  },
  { $id: 'SandboxExecution', title: 'SandboxExecution' },
);

const ExecutionDetailSchema = Type.Object({
  ...ExecutionResponseSchema.properties,
  error: ErrorField,
  agent_id: Type.Integer(),
  input: Type.Unknown(),
  logs: Type.Array(FreeObject),
  termination_reason: Type.Union([Type.String(), Type.Null()]),
  code_hash: Type.String(),
  input_hash: Type.String(),
  output_hash: Type.Union([Type.String(), Type.Null()]),
  ledger_index: Type.Union([Type.Integer(), Type.Null()]),
  resolved_config: FreeObject,
  started_at: Type.String({ format: 'date-time' }),
  finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const VerificationSchema = Type.Object({
  execution_id: Type.Integer(),
  tee_mode: Type.Literal('none'),
  attestation_id: Type.Null(),
  chain_valid: Type.Boolean(),
  mismatches: Type.Array(Type.String(), { description: 'What disagrees with the ledger when chain_valid is false' }),
  ledger_index: Type.Union([Type.Integer(), Type.Null()]),
  statement: FreeObject,
  signature: Type.Object({ algorithm: Type.Literal('Ed25519'), key_id: Type.String(), public_key: Type.String(), signature: Type.String() }),
  verified_at: Type.String({ format: 'date-time' }),
  note: Type.String(),
});

const ListQuery = Type.Object(
  {
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    status: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);
const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 403: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema };
const tags = ['sandbox executions'];

/**
 * Execution history and detail (`/api/v1/sdk/agents/:id/executions…`) and the signed execution statement
 * (`/api/v1/sdk/executions/:eid/verify`). Scope `agents`.
 *
 * @example
 * registerExecutionRoutes(app, services);
 */
export function registerExecutionRoutes(app: TollgateApp, services: Services): void {
  app.get('/api/v1/sdk/agents/:id/executions', {
    ...requireScope('agents', { checksAgentRestriction: true }),
    schema: { tags, summary: 'List executions of an agent, newest first', params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), querystring: ListQuery, response: { 200: Type.Object({ success: Type.Boolean(), executions: Type.Array(ExecutionDetailSchema), total: Type.Integer() }), ...errors } },
  }, async (request) => {
    await services.sandboxAgents.assertAllowed(authOf(request).tenantId, request.params.id, authOf(request));
    const page = await services.executions.list(authOf(request).tenantId, request.params.id, request.query);
    return { success: true, ...page };
  });
  app.get('/api/v1/sdk/agents/:id/executions/:eid', {
    ...requireScope('agents', { checksAgentRestriction: true }),
    schema: { tags, summary: 'Execution detail with logs and host-call audit', params: Type.Object({ id: Type.Integer({ minimum: 1 }), eid: Type.Integer({ minimum: 1 }) }), response: { 200: ExecutionDetailSchema, ...errors } },
  }, async (request) => {
    await services.sandboxAgents.assertAllowed(authOf(request).tenantId, request.params.id, authOf(request));
    return services.executions.get(authOf(request).tenantId, request.params.id, request.params.eid);
  });
  app.get('/api/v1/sdk/executions/:eid/verify', {
    ...requireScope('agents', { checksAgentRestriction: true }),
    schema: { tags, summary: 'Server-signed statement about an execution (tee_mode "none": no hardware TEE)', params: Type.Object({ eid: Type.Integer({ minimum: 1 }) }), response: { 200: VerificationSchema, ...errors } },
  }, async (request) => {
    const execution = await services.executions.require(authOf(request).tenantId, request.params.eid);
    await services.sandboxAgents.assertAllowed(authOf(request).tenantId, execution.agentId, authOf(request));
    return verifyExecution(execution, { signer: await services.executionSigner(), checkLedger: services.sandboxLedgerCheck, now: () => services.clock.now() });
  });
}
