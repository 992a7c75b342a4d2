import { Type } from '@sinclair/typebox';
import { TollgateError } from '@tollgate/core';
import type { FastifyRequest } from 'fastify';
import type { Services } from '../../services/index.js';
import { killSwitchKey } from '../../services/kill-switch/kill-switch-service.js';
import { agentForbidden, allowsAgent, type AgentRestriction } from '../../services/keys/agent-restriction.js';
import { authOf, requireScope } from '../auth.js';
import { ErrorEnvelopeSchema } from '../errors.js';
import type { TollgateApp } from '../type-provider.js';

const Reason = Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]));
const AgentParams = Type.Object({ agentId: Type.String({ minLength: 1, maxLength: 256 }) });
const ChangeResponse = Type.Object({
  success: Type.Boolean(),
  tenant_id: Type.String(),
  agent_id: Type.Union([Type.String(), Type.Null()]),
  scope: Type.Union([Type.Literal('agent'), Type.Literal('global')]),
  halted: Type.Boolean(),
  reason: Type.Union([Type.String(), Type.Null()]),
  changed_at: Type.String(),
});
const StateResponse = Type.Object({
  global: Type.Object({ halted: Type.Boolean(), reason: Type.Union([Type.String(), Type.Null()]), actor: Type.Union([Type.String(), Type.Null()]), updated_at: Type.Union([Type.String(), Type.Null()]) }),
  agents: Type.Array(Type.Object({ agent_id: Type.String(), halted: Type.Boolean(), reason: Type.Union([Type.String(), Type.Null()]), actor: Type.Union([Type.String(), Type.Null()]), updated_at: Type.String() })),
});
const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 403: ErrorEnvelopeSchema };
const tags = ['kill switch'];

/**
 * The seed's own kill samples call `fetch(url, { method: 'POST', headers: { Authorization }, body: JSON.stringify(…) })`
 * with no Content-Type, so fetch sends `text/plain;charset=UTF-8`. These routes read such a body as JSON. This opens
 * no cross-site path: API keys travel in a header a cross-site form cannot set, and the dashboard's cookie session
 * requires its CSRF header on every POST.
 *
 * @example
 * app.post('/api/sdk/kill-switch/global', { preValidation: jsonFromTextPlain, … }, handler);
 */
export async function jsonFromTextPlain(request: FastifyRequest): Promise<void> {
  if (typeof request.body !== 'string' || !/^text\/plain\b/i.test(request.headers['content-type'] ?? '')) return;
  try {
    request.body = request.body.trim() === '' ? null : JSON.parse(request.body);
  } catch {
    throw new TollgateError('VALIDATION_FAILED', 'body must be JSON (sent as text/plain)', { details: [{ field: 'body', message: 'must be JSON' }] });
  }
}

function changeView(message: { tenantId: string; agentId: string | null; global: boolean; halted: boolean; reason: string | null; at: number }) {
  return {
    success: true, tenant_id: message.tenantId, agent_id: message.agentId, scope: message.global ? 'global' as const : 'agent' as const,
    halted: message.halted, reason: message.reason, changed_at: new Date(message.at).toISOString(),
  };
}

/**
 * Kill switch (seed 004 paths, scope `agents`): `POST /api/sdk/agents/:agentId/kill` `{ reason }`,
 * `POST /api/sdk/agents/:agentId/unkill` (the way back), `POST /api/sdk/kill-switch/global`
 * `{ halted, reason }`, `GET /api/sdk/kill-switch`. While halted, every /v1/enforce of the agent (or of
 * the whole tenant) answers BLOCK with the reason, and the sandbox terminates running executions.
 *
 * @example
 * registerKillSwitchRoutes(app, services);
 */
export function registerKillSwitchRoutes(app: TollgateApp, services: Services): void {
  /**
   * Whether a key (restricted or not) may act on the kill-switch entry `agentId`: an id of its restriction, or the
   * numeric id of a sandbox agent whose name is (the sandbox honours both, and SecureAgent.stop() sends the id).
   */
  // A switch on `agentId` reaches the sandbox agent with that numeric id as well as agents of that name, so a key
  // restricted to agents may set it only when every agent it reaches is one of the key's: a key bound to an agent
  // *named* "1" must not halt the agent whose *id* is 1.
  // The switch also reaches every spelling that folds to the same key (killSwitchKey: case, width, invisible
  // characters), so a key bound to `Billing` must not halt (and kill the running executions of) an agent named
  // `billing`. Sandbox agents are known by name; instrumented agents' ids are not registered anywhere, so a
  // restricted key's switch can still reach an instrumented agent of a folded-equal id (docs/sandbox-api.md).
  const mayHalt = async (tenantId: string, auth: AgentRestriction, agentId: string): Promise<boolean> => {
    if (auth.agentIds === undefined) return true;
    const byId = /^[1-9][0-9]{0,15}$/.test(agentId) && Number.isSafeInteger(Number(agentId))
      ? await services.sandboxAgents.get(tenantId, Number(agentId)).catch(() => undefined)
      : undefined;
    // Its own agent, named or by its id …
    if (!allowsAgent(auth, agentId) && !(byId !== undefined && allowsAgent(auth, byId.name))) return false;
    // … and every sandbox agent the switch reaches is its own too.
    const folded = killSwitchKey(agentId);
    const reached = (await services.sandboxAgents.list(tenantId)).filter((agent) => killSwitchKey(agent.name) === folded).map((agent) => agent.name);
    return [...reached, ...(byId ? [byId.name] : [])].every((name) => allowsAgent(auth, name));
  };
  const actorOf = (keyId: string) => keyId;
  // A key restricted to agents may halt its own agents (never revive one, nor touch the global switch).
  app.post('/api/sdk/agents/:agentId/kill', {
    ...requireScope('agents', { checksAgentRestriction: true }), preValidation: jsonFromTextPlain,
    schema: { tags, summary: 'Halt one agent', params: AgentParams, body: Type.Union([Type.Object({ reason: Reason }, { additionalProperties: false }), Type.Null()]), response: { 200: ChangeResponse, ...errors } },
  }, async (request) => {
    const { tenantId, keyId } = authOf(request);
    // Not one of the key's agents: 403 KEY_AGENT_FORBIDDEN, as on every other route.
    if (!(await mayHalt(tenantId, authOf(request), request.params.agentId))) throw agentForbidden(request.params.agentId);
    return changeView(await services.killSwitch.killAgent(tenantId, request.params.agentId, request.body?.reason ?? null, actorOf(keyId)));
  });
  app.post('/api/sdk/agents/:agentId/unkill', {
    ...requireScope('agents'), preValidation: jsonFromTextPlain,
    schema: { tags, summary: 'Resume a halted agent', params: AgentParams, body: Type.Union([Type.Object({ reason: Reason }, { additionalProperties: false }), Type.Null()]), response: { 200: ChangeResponse, ...errors } },
  }, async (request) => {
    const { tenantId, keyId } = authOf(request);
    return changeView(await services.killSwitch.reviveAgent(tenantId, request.params.agentId, request.body?.reason ?? null, actorOf(keyId)));
  });
  app.post('/api/sdk/kill-switch/global', {
    ...requireScope('agents'), preValidation: jsonFromTextPlain,
    schema: { tags, summary: 'Halt (halted: true) or resume (halted: false) every agent of the tenant', body: Type.Object({ halted: Type.Boolean(), reason: Reason }, { additionalProperties: false }), response: { 200: ChangeResponse, ...errors } },
  }, async (request) => {
    const { tenantId, keyId } = authOf(request);
    return changeView(await services.killSwitch.setGlobal(tenantId, request.body.halted, request.body.reason ?? null, actorOf(keyId)));
  });
  app.get('/api/sdk/kill-switch', { ...requireScope('agents', { checksAgentRestriction: true }), schema: { tags, summary: 'Kill-switch state of the tenant', response: { 200: StateResponse, ...errors } } },
    async (request) => {
      const auth = authOf(request);
      const state = await services.killSwitch.state(auth.tenantId);
      const iso = (value: number | null) => (value === null ? null : new Date(value).toISOString());
      return {
        global: { halted: state.global.halted, reason: state.global.reason, actor: state.global.actor, updated_at: iso(state.global.updatedAt) },
        agents: (auth.agentIds === undefined ? state.agents : await filterAsync(state.agents, (agent) => mayHalt(auth.tenantId, auth, agent.agentId))).map((agent) => ({ agent_id: agent.agentId, halted: agent.halted, reason: agent.reason, actor: agent.actor, updated_at: new Date(agent.updatedAt).toISOString() })),
      };
    });
}

async function filterAsync<T>(items: readonly T[], keep: (item: T) => Promise<boolean>): Promise<T[]> {
  const kept = await Promise.all(items.map(keep));
  return items.filter((_, i) => kept[i]);
}
