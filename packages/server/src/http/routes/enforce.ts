import { Type, type Static } from '@sinclair/typebox';
import { ENFORCEMENT_MODES, TollgateError } from '@tollgate/core';
import type { Services } from '../../services/index.js';
import { MAX_HOLD_WAIT_MS, toHoldView } from '../../services/holds/hold-service.js';
import { assertAgentAllowed, type AuthContext } from '../../services/keys/index.js';
import { assertTenantOf, authOf, requireScope } from '../auth.js';
import { ErrorEnvelopeSchema, RateLimitedResponseSchema } from '../errors.js';
import { assertStillStanding, streamCredentialCheck, streamSlotsOf } from '../stream-credential.js';
import type { TollgateApp } from '../type-provider.js';

const Name = (description: string) => Type.String({ minLength: 1, maxLength: 256, description });
const Decision = Type.Union([Type.Literal('ALLOW'), Type.Literal('STEP_UP'), Type.Literal('BLOCK')]);
const Mode = Type.Union(ENFORCEMENT_MODES.map((mode) => Type.Literal(mode)));
const NullableString = Type.Union([Type.String(), Type.Null()]);

const EnforceBody = Type.Object({
  agentId: Name('Agent id'),
  tenantId: Type.Optional(Name('Must equal the API key’s tenant')),
  userId: Type.Optional(Name('User on whose behalf the agent acts (default system)')),
  sessionId: Type.Optional(Name('Session id (default: one session per agent)')),
  toolName: Name('Tool name'),
  arguments: Type.Optional(Type.Unknown({ description: 'Tool arguments (any JSON)' })),
  enforcement: Type.Optional(Mode),
  approvedScope: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 1000 })),
  callId: Type.Optional(Type.String({ maxLength: 256 })),
  holdToken: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Approved hold for exactly this call' })),
}, { additionalProperties: false });

const EnforceResponse = Type.Object({
  decision: Decision,
  reason: Type.String(),
  decisionId: Type.String(),
  violationId: NullableString,
  holdToken: NullableString,
  holdExpiresAt: NullableString,
  matchedRules: Type.Array(Type.String()),
  policyVersion: Type.Union([Type.Integer(), Type.Null()]),
  wouldHaveBeen: Type.Union([Decision, Type.Null()]),
  captureOutput: Type.Boolean(),
  mode: Mode,
});

const OutputBody = Type.Object({
  decisionId: Type.Optional(Type.String({ maxLength: 256 })),
  sessionId: Type.Optional(Name('Session id')),
  agentId: Name('Agent id'),
  toolName: Name('Tool name'),
  // Required: an output left out (a misspelt field is refused as unknown) would be "allowed" without being scanned.
  output: Type.Unknown(),
}, { additionalProperties: false });

const OutputResponse = Type.Object({ decision: Type.Union([Type.Literal('ALLOW'), Type.Literal('BLOCK')]), reason: Type.String(), violationId: NullableString });

const HoldResponse = Type.Object({
  holdToken: Type.String(),
  status: Type.Union(['pending', 'approved', 'denied', 'expired'].map((status) => Type.Literal(status))),
  decision: Type.Union([Type.Literal('ALLOW'), Type.Literal('BLOCK'), Type.Null()]),
  reason: Type.String(),
  approver: NullableString,
  comment: NullableString,
  expiresAt: Type.String(),
  actionHash: Type.String(),
});

const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 403: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema, 413: ErrorEnvelopeSchema };
const tags = ['enforcement'];

/**
 * The SDK's enforcement endpoints (scope `enforce`, docs/wire-contract.md): `POST /v1/enforce`,
 * `POST /v1/enforce/output`, `GET /v1/enforce/hold/{token}?waitMs=` (long poll).
 *
 * @example
 * registerEnforceRoutes(app, services);
 */
export function registerEnforceRoutes(app: TollgateApp, services: Services): void {
  const slots = streamSlotsOf(services);
  const holdCredential = streamCredentialCheck(services, 'enforce');
  const decide = (auth: AuthContext, body: Static<typeof EnforceBody>) => {
    assertTenantOf(auth, body.tenantId);
    // Here, not in a hook: the direct path calls this handler without Fastify.
    assertAgentAllowed(auth, body.agentId);
    return services.enforcement.enforce(auth.tenantId, body);
  };
  // Also served on the direct path (http/direct-routes.ts): the same handler, schema and answers.
  app.post('/v1/enforce', { config: { ...requireScope('enforce').config, direct: (auth, body) => decide(auth, body as Static<typeof EnforceBody>) }, schema: { tags, summary: 'Decide one tool call', body: EnforceBody, response: { 200: EnforceResponse, ...errors } } },
    async (request) => decide(authOf(request), request.body));
  app.post('/v1/enforce/output', { ...requireScope('enforce'), schema: { tags, summary: 'Check a tool’s output before the agent sees it', body: OutputBody, response: { 200: OutputResponse, ...errors } } },
    async (request) => {
      const auth = authOf(request);
      assertAgentAllowed(auth, request.body.agentId);
      return services.enforcementOutputs.check(auth.tenantId, request.body);
    });
  app.get('/v1/enforce/hold/:token', {
    ...requireScope('enforce'),
    schema: {
      tags, summary: 'Status of a step-up hold; with waitMs, wait until it is decided (long poll)',
      params: Type.Object({ token: Type.String({ minLength: 1, maxLength: 128 }) }),
      querystring: Type.Object({ waitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_HOLD_WAIT_MS })) }, { additionalProperties: false }),
      response: { 200: HoldResponse, ...errors, 429: RateLimitedResponseSchema },
    },
  }, async (request, reply) => {
    reply.header('x-tollgate-long-poll', '1');
    const auth = authOf(request);
    const { tenantId } = auth;
    // A key bound to agents sees only their holds; another agent's hold answers as an unknown token would.
    if (auth.agentIds !== undefined && !auth.agentIds.includes((await services.holds.get(tenantId, request.params.token)).agentId)) {
      throw new TollgateError('NOT_FOUND', 'hold not found');
    }
    const waitMs = request.query.waitMs ?? 0;
    // A waiting poll holds a connection like a stream does, so it takes one of the tenant's stream slots.
    const release = waitMs > 0 ? slots.acquire(tenantId, auth.keyId) : undefined;
    try {
      // Fastify's request.signal aborts when the client disconnects: the wait ends and the slot is given back.
      const hold = await services.holds.waitForDecision(tenantId, request.params.token, waitMs, waitMs > 0 ? request.signal : undefined);
      if (waitMs > 0) await assertStillStanding(holdCredential, request, auth);
      return toHoldView(hold);
    } finally {
      release?.();
    }
  });
}
