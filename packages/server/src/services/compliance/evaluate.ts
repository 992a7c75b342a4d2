import { FRAMEWORK_CATALOGUES } from './frameworks/index.js';
import {
  COMPLIANCE_DISCLAIMER,
  type CheckResult, type ComplianceFrameworkCode, type ControlCoverage, type ControlResult, type FrameworkEvaluation,
  type FrameworkLabel, type LedgerCheckpointEvidence,
} from './types.js';

/**
 * A control is as strong as its weakest evidence: any failing check makes it a gap, any partial one partial.
 *
 * @example
 * controlCoverage([{ status: 'pass' }, { status: 'partial' }] as CheckResult[]); // 'partial'
 */
export function controlCoverage(checks: readonly Pick<CheckResult, 'status'>[]): ControlCoverage {
  if (checks.some((check) => check.status === 'fail')) return 'gap';
  if (checks.some((check) => check.status === 'partial')) return 'partial';
  return 'covered';
}

/**
 * Coverage counts a covered control fully and a partial one half. The label: MAPPED when every control is covered,
 * DOCUMENTED when none is a gap, else "Gap identified".
 *
 * @example
 * frameworkLabel({ covered: 7, partial: 1, gap: 0, total: 8 }); // 'DOCUMENTED'
 */
export function frameworkLabel(counts: { covered: number; partial: number; gap: number; total: number }): FrameworkLabel {
  if (counts.gap > 0) return 'Gap identified';
  return counts.covered === counts.total ? 'MAPPED' : 'DOCUMENTED';
}

/**
 * Maps check results onto one framework's controls.
 *
 * @example
 * const evaluation = evaluateFramework('soc2', runChecks(facts), facts.ledger.checkpoint, Date.now());
 */
export function evaluateFramework(
  code: ComplianceFrameworkCode, checks: readonly CheckResult[], checkpoint: LedgerCheckpointEvidence | null, at: number,
): FrameworkEvaluation {
  const catalogue = FRAMEWORK_CATALOGUES[code];
  const byId = new Map(checks.map((check) => [check.id, check]));
  const controls: ControlResult[] = catalogue.controls.map((control) => {
    const evidence = control.checks.map((id) => byId.get(id)).filter((check): check is CheckResult => check !== undefined);
    return {
      id: control.id, title: control.title, reference: control.reference, status: controlCoverage(evidence), checks: evidence,
      remediation: [...new Set(evidence.flatMap((check) => check.remediation))],
    };
  });
  const count = (status: ControlCoverage) => controls.filter((control) => control.status === status).length;
  const counts = { covered: count('covered'), partial: count('partial'), gap: count('gap'), total: controls.length };
  return {
    framework: code, framework_name: catalogue.name, source: catalogue.source, label: frameworkLabel(counts),
    coverage_percent: Math.round((100 * (counts.covered + counts.partial / 2)) / Math.max(1, counts.total)),
    counts, controls, ledger_checkpoint: checkpoint, evaluated_at: new Date(at).toISOString(), disclaimer: COMPLIANCE_DISCLAIMER,
  };
}
