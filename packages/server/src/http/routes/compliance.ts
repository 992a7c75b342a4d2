import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Services } from '../../services/index.js';
import {
  buildComplianceReport, buildEvidencePackage, renderEvidenceMarkdown, renderReportMarkdown, renderReportPdf,
} from '../../services/compliance/index.js';
import { authOf, requireScope } from '../auth.js';
import { ErrorEnvelopeSchema } from '../errors.js';
import type { TollgateApp } from '../type-provider.js';

const FreeObject = Type.Object({}, { additionalProperties: true });
const AgentParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const EvidenceParams = Type.Object({ id: Type.Integer({ minimum: 1 }), framework: Type.String({ minLength: 1, maxLength: 64 }) });
const EvidenceQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('markdown'), Type.Literal('json')], { default: 'markdown' })) },
  { additionalProperties: false },
);
const ReportQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('markdown'), Type.Literal('pdf')], { default: 'json' })) },
  { additionalProperties: false },
);
const EmptyBody = Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()]);
const ComplianceStatusSchema = Type.Object(
  {
    agent_id: Type.Integer(),
    agent_name: Type.String(),
    configured_frameworks: Type.Array(Type.String()),
    frameworks: Type.Record(Type.String(), FreeObject),
    evaluated_at: Type.String({ format: 'date-time' }),
    disclaimer: Type.String(),
  },
  { $id: 'ComplianceStatus', title: 'ComplianceStatus' },
);
const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 403: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema, 409: ErrorEnvelopeSchema };
const tags = ['compliance'];

function serverUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

function fileName(agentName: string, what: string, extension: string, at: number): string {
  return `${agentName.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80)}-${what}-${new Date(at).toISOString().slice(0, 10)}.${extension}`;
}

/**
 * Compliance evidence of a sandboxed agent (seed 004 "Controls Mapping & Evidence"), under the SDK agent routes,
 * scope `agents`: cached status, forced re-evaluation, per-framework evidence package (markdown|json) and the
 * coverage report over every configured framework (json|markdown|pdf). Audit-prepared evidence, not a certification.
 *
 * @example
 * registerComplianceRoutes(app, services);
 */
export function registerComplianceRoutes(app: TollgateApp, services: Services): void {
  const { compliance } = services;
  app.get('/api/v1/sdk/agents/:id/compliance', {
    ...requireScope('agents', { checksAgentRestriction: true }),
    schema: { tags, summary: 'Cached compliance evaluation per configured framework (evaluates frameworks never evaluated)', params: AgentParams, response: { 200: ComplianceStatusSchema, ...errors } },
  }, async (request) => {
    const { tenantId, keyId } = authOf(request);
    await services.sandboxAgents.assertAllowed(tenantId, request.params.id, authOf(request));
    return compliance.status(tenantId, request.params.id, keyId);
  });
  app.post('/api/v1/sdk/agents/:id/compliance/evaluate', {
    ...requireScope('agents', { checksAgentRestriction: true }),
    schema: { tags, summary: 'Re-run every configured framework now and refresh the cache', params: AgentParams, body: EmptyBody, response: { 200: ComplianceStatusSchema, ...errors } },
  }, async (request) => {
    const { tenantId, keyId } = authOf(request);
    await services.sandboxAgents.assertAllowed(tenantId, request.params.id, authOf(request));
    return compliance.evaluate(tenantId, request.params.id, keyId);
  });
  app.get('/api/v1/sdk/agents/:id/compliance/evidence/:framework', {
    ...requireScope('agents', { checksAgentRestriction: true }),
    schema: { tags, summary: 'Evidence package of one framework: markdown (default) or json', params: EvidenceParams, querystring: EvidenceQuery, response: { 200: Type.Unknown({ description: 'text/markdown document, or the JSON package with format=json' }), ...errors } },
  }, async (request, reply) => {
    const { tenantId, keyId } = authOf(request);
    await services.sandboxAgents.assertAllowed(tenantId, request.params.id, authOf(request));
    const evaluation = await compliance.framework(tenantId, request.params.id, request.params.framework, keyId);
    const at = services.clock.now();
    const pkg = buildEvidencePackage(evaluation, serverUrl(request), at);
    if ((request.query.format ?? 'markdown') === 'json') return pkg;
    return reply.type('text/markdown; charset=utf-8')
      .header('content-disposition', `attachment; filename="${fileName(evaluation.agent.name, `${evaluation.framework}-evidence`, 'md', at)}"`)
      .send(renderEvidenceMarkdown(pkg));
  });
  app.get('/api/v1/sdk/agents/:id/compliance/report', {
    ...requireScope('agents', { checksAgentRestriction: true }),
    schema: { tags, summary: 'Coverage report over every configured framework: json (default), markdown or pdf', params: AgentParams, querystring: ReportQuery, response: { 200: Type.Unknown({ description: 'JSON report, text/markdown, or application/pdf' }), ...errors } },
  }, async (request, reply) => {
    const { tenantId, keyId } = authOf(request);
    await services.sandboxAgents.assertAllowed(tenantId, request.params.id, authOf(request));
    const at = services.clock.now();
    const report = buildComplianceReport(await compliance.status(tenantId, request.params.id, keyId), serverUrl(request), at);
    const format = request.query.format ?? 'json';
    if (format === 'json') return report;
    const disposition = (extension: string) => `attachment; filename="${fileName(report.agent_name, 'compliance-report', extension, at)}"`;
    if (format === 'markdown') return reply.type('text/markdown; charset=utf-8').header('content-disposition', disposition('md')).send(renderReportMarkdown(report));
    return reply.type('application/pdf').header('content-disposition', disposition('pdf')).send(await renderReportPdf(report));
  });
}
