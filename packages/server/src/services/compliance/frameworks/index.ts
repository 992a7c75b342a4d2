import { TollgateError } from '@tollgate/core';
import { COMPLIANCE_FRAMEWORKS, type ComplianceFrameworkCode, type FrameworkDefinition } from '../types.js';
import { EU_AI_ACT } from './eu-ai-act.js';
import { NIST_AI_RMF } from './nist-ai-rmf.js';
import { SOC2 } from './soc2.js';

/** The control catalogue of each framework code. */
export const FRAMEWORK_CATALOGUES: Readonly<Record<ComplianceFrameworkCode, FrameworkDefinition>> = Object.freeze({
  eu_ai_act: EU_AI_ACT,
  soc2: SOC2,
  nist_ai_rmf: NIST_AI_RMF,
});

/**
 * True for a framework code Tollgate has a catalogue for.
 *
 * @example
 * isFrameworkCode('soc2'); // true
 */
export function isFrameworkCode(value: unknown): value is ComplianceFrameworkCode {
  return typeof value === 'string' && (COMPLIANCE_FRAMEWORKS as readonly string[]).includes(value);
}

/**
 * Returns the code or throws `COMPLIANCE_FRAMEWORK_UNKNOWN` naming the field.
 *
 * @example
 * requireFrameworkCode(request.params.framework, 'framework');
 */
export function requireFrameworkCode(value: unknown, field: string): ComplianceFrameworkCode {
  if (isFrameworkCode(value)) return value;
  throw new TollgateError('COMPLIANCE_FRAMEWORK_UNKNOWN', `${field} must be one of ${COMPLIANCE_FRAMEWORKS.join(', ')}, got ${JSON.stringify(String(value).slice(0, 64))}`, {
    details: { field, supported: [...COMPLIANCE_FRAMEWORKS] },
  });
}
