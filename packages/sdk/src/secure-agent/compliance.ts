import type { HttpClient } from './http-client.js';
import { SDKError } from './sdk-error.js';
import type {
  ComplianceEvidencePackage, ComplianceReport, ComplianceReportFormat, ComplianceStatus, EvidencePackageFormat,
} from './types.js';

/** Framework codes the server has control catalogues for (the seed's three). */
export const COMPLIANCE_FRAMEWORKS = ['eu_ai_act', 'soc2', 'nist_ai_rmf'] as const;
const EVIDENCE_FORMATS = new Set<string>(['markdown', 'json']);
const REPORT_FORMATS = new Set<string>(['json', 'markdown', 'pdf']);

/**
 * The compliance routes of one agent (`/api/v1/sdk/agents/:id/compliance…`). Failures keep the server's code
 * (`COMPLIANCE_NOT_CONFIGURED`, `COMPLIANCE_FRAMEWORK_UNKNOWN`, `NOT_FOUND`); bad formats are `INVALID_OPTIONS`.
 *
 * @example
 * const status = await complianceStatus(http, '/api/v1/sdk/agents/3');
 */
export function complianceStatus(http: HttpClient, agentPath: string): Promise<ComplianceStatus> {
  return http.json<ComplianceStatus>('GET', `${agentPath}/compliance`);
}

/**
 * Re-runs every configured framework on the server.
 *
 * @example
 * await evaluateComplianceNow(http, '/api/v1/sdk/agents/3');
 */
export function evaluateComplianceNow(http: HttpClient, agentPath: string): Promise<ComplianceStatus> {
  return http.json<ComplianceStatus>('POST', `${agentPath}/compliance/evaluate`, { body: {} });
}

/**
 * One framework's evidence package: Markdown text, or the parsed JSON package.
 *
 * @example
 * const markdown = await evidencePackage(http, path, 'eu_ai_act', 'markdown');
 */
export async function evidencePackage(http: HttpClient, agentPath: string, framework: string, format: EvidencePackageFormat): Promise<string | ComplianceEvidencePackage> {
  if (!EVIDENCE_FORMATS.has(format)) throw new SDKError('INVALID_OPTIONS', `format must be 'markdown' or 'json', got ${JSON.stringify(format)}`);
  if (typeof framework !== 'string' || framework === '') throw new SDKError('INVALID_OPTIONS', `framework must be one of ${COMPLIANCE_FRAMEWORKS.join(', ')}`);
  const response = await http.send('GET', `${agentPath}/compliance/evidence/${encodeURIComponent(framework)}`, { query: { format } });
  const text = await response.text();
  return format === 'json' ? (JSON.parse(text) as ComplianceEvidencePackage) : text;
}

/**
 * The coverage report over every configured framework: parsed JSON, Markdown text or PDF bytes.
 *
 * @example
 * const report = await complianceReport(http, path, 'json');
 */
export async function complianceReport(http: HttpClient, agentPath: string, format: ComplianceReportFormat): Promise<ComplianceReport | string | Uint8Array> {
  if (!REPORT_FORMATS.has(format)) throw new SDKError('INVALID_OPTIONS', `format must be 'json', 'markdown' or 'pdf', got ${JSON.stringify(format)}`);
  const response = await http.send('GET', `${agentPath}/compliance/report`, { query: { format } });
  if (format === 'pdf') return new Uint8Array(await response.arrayBuffer());
  const text = await response.text();
  return format === 'json' ? (JSON.parse(text) as ComplianceReport) : text;
}
