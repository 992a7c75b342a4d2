/**
 * Shapes of compliance evaluation (seed 004 "Controls Mapping & Evidence"). Wire shapes are snake_case, like the
 * rest of `/api/v1/sdk/*`.
 */

/** Framework codes of the seed. */
export const COMPLIANCE_FRAMEWORKS = ['eu_ai_act', 'soc2', 'nist_ai_rmf'] as const;
export type ComplianceFrameworkCode = (typeof COMPLIANCE_FRAMEWORKS)[number];

/** Said in every status, report and evidence package. */
export const COMPLIANCE_DISCLAIMER =
  'Audit-prepared evidence, not a certification or compliance score. Tollgate maps the controls it can observe ' +
  'on this server to framework requirements; whether a requirement is met is for your compliance team and auditor to judge.';

/** The Tollgate checks that supply evidence; each inspects real state of the tenant and agent. */
export const CHECK_IDS = [
  'sandbox_template', 'permission_scopes', 'resource_limits', 'content_safety', 'audit_ledger', 'ledger_immutability',
  'kill_switch', 'credential_vault', 'permission_requests', 'enforcement_policy', 'human_oversight', 'violation_monitoring',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export type CheckStatus = 'pass' | 'partial' | 'fail';

/** Outcome of one check, with the evidence it found and what to do when it did not pass. */
export interface CheckResult {
  id: CheckId;
  title: string;
  status: CheckStatus;
  summary: string;
  evidence: Record<string, unknown>;
  remediation: string[];
}

/** One control of a framework catalogue. */
export interface ControlDefinition {
  /** Stable id, e.g. `EU-ART14-STOP`, `CC6.1`, `MANAGE-2.4`. */
  id: string;
  title: string;
  /** The article, criterion or subcategory it maps to. */
  reference: string;
  /** Checks whose evidence the control needs; the weakest decides its coverage. */
  checks: readonly CheckId[];
}

/** A framework's control catalogue. */
export interface FrameworkDefinition {
  code: ComplianceFrameworkCode;
  name: string;
  /** The edition the catalogue follows. */
  source: string;
  controls: readonly ControlDefinition[];
}

export type ControlCoverage = 'covered' | 'partial' | 'gap';

/** The seed's three labels: every control covered, no gap, at least one gap. */
export type FrameworkLabel = 'MAPPED' | 'DOCUMENTED' | 'Gap identified';

export interface ControlResult {
  id: string;
  title: string;
  reference: string;
  status: ControlCoverage;
  checks: CheckResult[];
  remediation: string[];
}

/** One framework's evaluation of one agent, as stored and returned. */
export interface FrameworkEvaluation {
  framework: ComplianceFrameworkCode;
  framework_name: string;
  source: string;
  label: FrameworkLabel;
  coverage_percent: number;
  counts: { covered: number; partial: number; gap: number; total: number };
  controls: ControlResult[];
  /** The signed checkpoint current at evaluation time (tree size and root hash), or null when the log is empty. */
  ledger_checkpoint: LedgerCheckpointEvidence | null;
  evaluated_at: string;
  disclaimer: string;
}

/** What an auditor needs to check the ledger evidence with `tollgate audit verify`. */
export interface LedgerCheckpointEvidence {
  origin: string;
  tree_size: number;
  root_hash: string;
  /** The signed note (C2SP checkpoint), verbatim. */
  note: string;
  public_key: string;
  created_at: string;
  signature_valid: boolean;
}
