import { Type } from '@sinclair/typebox';
import { TollgateError, parseIsoTime } from '@tollgate/core';
import type { Services } from '../../services/index.js';
import { MAX_REPLAY_LIMIT } from '../../services/policies/replay.js';
import { authOf, requireScope } from '../auth.js';
import { ErrorEnvelopeSchema } from '../errors.js';
import type { TollgateApp } from '../type-provider.js';

/** Versions per page of `GET /api/v1/policies/{id}` (each page also stops at 8 MiB of source). */
const DEFAULT_VERSIONS_PER_PAGE = 100;
const MAX_VERSIONS_PER_PAGE = 1_000;
const Source = Type.String({ minLength: 1, maxLength: 1_048_576, description: 'Policy document, YAML or JSON (docs/policy-language.md)' });
const Comment = Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]));
const PolicyView = Type.Object({
  id: Type.String(), name: Type.String(), description: Type.Union([Type.String(), Type.Null()]), latestVersion: Type.Integer(),
  active: Type.Boolean(), activeVersion: Type.Union([Type.Integer(), Type.Null()]), createdAt: Type.String(), updatedAt: Type.String(),
  createdBy: Type.Union([Type.String(), Type.Null()]),
});
const VersionView = Type.Object({
  policyId: Type.String(), version: Type.Integer(), source: Type.String(), sourceHash: Type.String(), comment: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(), createdBy: Type.Union([Type.String(), Type.Null()]),
});
const ActivationView = Type.Object({
  policyId: Type.Union([Type.String(), Type.Null()]), version: Type.Union([Type.Integer(), Type.Null()]), action: Type.String(),
  actor: Type.Union([Type.String(), Type.Null()]), createdAt: Type.String(),
});
const Diagnostic = Type.Object({ severity: Type.String(), code: Type.String(), message: Type.String(), path: Type.String(), line: Type.Integer(), column: Type.Integer() });
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 403: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema, 409: ErrorEnvelopeSchema, 422: ErrorEnvelopeSchema };
const tags = ['policies'];
const scope = requireScope('policies');

const iso = (ms: number) => new Date(ms).toISOString();
const policyView = (p: { id: string; name: string; description: string | null; latestVersion: number; active: boolean; activeVersion: number | null; createdAt: number; updatedAt: number; createdBy: string | null }) =>
  ({ id: p.id, name: p.name, description: p.description, latestVersion: p.latestVersion, active: p.active, activeVersion: p.activeVersion, createdAt: iso(p.createdAt), updatedAt: iso(p.updatedAt), createdBy: p.createdBy });
const versionView = (v: { policyId: string; version: number; source: string; sourceHash: string; comment: string | null; createdAt: number; createdBy: string | null }) =>
  ({ policyId: v.policyId, version: v.version, source: v.source, sourceHash: v.sourceHash, comment: v.comment, createdAt: iso(v.createdAt), createdBy: v.createdBy });
const activationView = (a: { policyId: string | null; version: number | null; action: string; actor: string | null; createdAt: number }) =>
  ({ policyId: a.policyId, version: a.version, action: a.action, actor: a.actor, createdAt: iso(a.createdAt) });

function parseTime(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseIsoTime(value);
  if (ms === undefined) throw new TollgateError('VALIDATION_FAILED', `${field} must be an ISO-8601 date or date-time`, { details: { field } });
  return ms;
}

/**
 * `/api/v1/policies` (scope `policies`): create, version, diff, activate, roll back, lint, simulate.
 *
 * @example
 * registerPolicyRoutes(app, services);
 */
export function registerPolicyRoutes(app: TollgateApp, services: Services): void {
  const policies = services.policies;
  app.post('/api/v1/policies', { ...scope, schema: { tags, summary: 'Create a policy (version 1)', body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), description: Comment, source: Source, comment: Comment, activate: Type.Optional(Type.Boolean()) }, { additionalProperties: false }), response: { 201: PolicyView, ...errors } } },
    async (request, reply) => {
      const { tenantId, keyId } = authOf(request);
      const created = await policies.create(tenantId, request.body, keyId);
      if (request.body.activate) await policies.activate(tenantId, created.id, 1, keyId);
      return reply.code(201).send(policyView(await policies.getView(tenantId, created.id)));
    });
  app.get('/api/v1/policies', { ...scope, schema: { tags, summary: 'List policies', response: { 200: Type.Object({ policies: Type.Array(PolicyView) }), ...errors } } },
    async (request) => ({ policies: (await policies.list(authOf(request).tenantId)).map(policyView) }));
  app.post('/api/v1/policies/lint', { ...scope, schema: { tags, summary: 'Check a policy document (nothing is stored)', body: Type.Object({ source: Source }, { additionalProperties: false }), response: { 200: Type.Object({ ok: Type.Boolean(), diagnostics: Type.Array(Diagnostic) }), ...errors } } },
    async (request) => {
      const loaded = await policies.loader.load(request.body.source);
      return { ok: loaded.ok, diagnostics: [...loaded.diagnostics] };
    });
  app.get('/api/v1/policies/history', { ...scope, schema: { tags, summary: 'Activation history, newest first', response: { 200: Type.Object({ activations: Type.Array(ActivationView) }), ...errors } } },
    async (request) => ({ activations: (await policies.history(authOf(request).tenantId)).map(activationView) }));
  app.post('/api/v1/policies/rollback', { ...scope, schema: { tags, summary: 'Re-activate the previously active policy version', body: Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()]), response: { 200: ActivationView, ...errors } } },
    async (request) => {
      const { tenantId, keyId } = authOf(request);
      return activationView(await policies.rollback(tenantId, keyId));
    });
  app.post('/api/v1/policies/deactivate', { ...scope, schema: { tags, summary: 'Leave the tenant without an active policy (declared scopes only; none = BLOCK)', body: Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()]), response: { 200: Type.Object({ ok: Type.Boolean() }), ...errors } } },
    async (request) => {
      const { tenantId, keyId } = authOf(request);
      await policies.deactivate(tenantId, keyId);
      return { ok: true };
    });
  app.get('/api/v1/policies/:id', {
    ...scope,
    schema: {
      tags, summary: 'A policy and a page of its versions (newest first)', params: IdParams,
      querystring: Type.Object({
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_VERSIONS_PER_PAGE, description: `Most versions in the page (default ${DEFAULT_VERSIONS_PER_PAGE})` })),
        before: Type.Optional(Type.Integer({ minimum: 1, description: 'Only versions below this one (the previous page\'s nextBefore)' })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ policy: PolicyView, versions: Type.Array(VersionView), nextBefore: Type.Union([Type.Integer(), Type.Null()]) }), ...errors },
    },
  },
    async (request) => {
      const { tenantId } = authOf(request);
      const policy = await policies.getView(tenantId, request.params.id);
      const page = await policies.versionsPage(tenantId, policy.id, { before: request.query.before, limit: request.query.limit ?? DEFAULT_VERSIONS_PER_PAGE });
      return { policy: policyView(policy), versions: page.versions.map(versionView), nextBefore: page.nextBefore };
    });
  app.post('/api/v1/policies/:id/versions', { ...scope, schema: { tags, summary: 'Add a version', params: IdParams, body: Type.Object({ source: Source, comment: Comment, activate: Type.Optional(Type.Boolean()) }, { additionalProperties: false }), response: { 201: VersionView, ...errors } } },
    async (request, reply) => {
      const { tenantId, keyId } = authOf(request);
      const version = await policies.addVersion(tenantId, request.params.id, request.body, keyId);
      if (request.body.activate) await policies.activate(tenantId, request.params.id, version.version, keyId);
      return reply.code(201).send(versionView(version));
    });
  app.get('/api/v1/policies/:id/versions/:version', { ...scope, schema: { tags, summary: 'One version with its source', params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), version: Type.Integer({ minimum: 1 }) }), response: { 200: VersionView, ...errors } } },
    async (request) => versionView(await policies.version(authOf(request).tenantId, request.params.id, request.params.version)));
  app.get('/api/v1/policies/:id/diff', { ...scope, schema: { tags, summary: 'Differences between two versions', params: IdParams, querystring: Type.Object({ from: Type.Integer({ minimum: 1 }), to: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }) } },
    async (request) => policies.diff(authOf(request).tenantId, request.params.id, request.query.from, request.query.to));
  app.post('/api/v1/policies/:id/activate', { ...scope, schema: { tags, summary: 'Activate a version (default: the latest)', params: IdParams, body: Type.Union([Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }), Type.Null()]), response: { 200: ActivationView, ...errors } } },
    async (request) => {
      const { tenantId, keyId } = authOf(request);
      const version = request.body?.version ?? (await policies.get(tenantId, request.params.id)).latestVersion;
      return activationView(await policies.activate(tenantId, request.params.id, version, keyId));
    });
  app.post('/api/v1/policies/:id/simulate', {
    ...scope,
    schema: {
      tags, summary: 'Run a draft over recorded calls and report which decisions would change', params: IdParams,
      body: Type.Object({
        source: Type.Optional(Source), version: Type.Optional(Type.Integer({ minimum: 1 })),
        from: Type.Optional(Type.String({ maxLength: 64 })), to: Type.Optional(Type.String({ maxLength: 64 })),
        agentId: Type.Optional(Type.String({ maxLength: 256 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_REPLAY_LIMIT })),
        examples: Type.Optional(Type.Integer({ minimum: 0, maximum: 500 })),
      }, { additionalProperties: false }),
    },
  }, async (request) => {
    const { tenantId } = authOf(request);
    const body = request.body;
    const from = parseTime(body.from, 'from');
    const to = parseTime(body.to, 'to');
    if (from !== undefined && to !== undefined && from > to) throw new TollgateError('VALIDATION_FAILED', 'from is later than to', { details: { field: 'from' } });
    return policies.simulate(tenantId, request.params.id, {
      source: body.source, version: body.version, from, to,
      agentId: body.agentId, limit: body.limit, examples: body.examples,
    });
  });
}
