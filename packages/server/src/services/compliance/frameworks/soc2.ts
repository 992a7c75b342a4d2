import type { FrameworkDefinition } from '../types.js';

/**
 * SOC 2 Trust Services Criteria (2017, points of focus revised 2022) that the agent runtime supplies evidence for:
 * logical access (CC6), system operations (CC7), change management (CC8) and availability (A1).
 *
 * @example
 * SOC2.controls.find((control) => control.id === 'CC6.1');
 */
export const SOC2: FrameworkDefinition = {
  code: 'soc2',
  name: 'SOC 2',
  source: 'AICPA Trust Services Criteria (2017, revised points of focus 2022)',
  controls: [
    { id: 'CC6.1', title: 'Logical access is restricted to what is granted; secrets are protected', reference: 'CC6.1', checks: ['permission_scopes', 'credential_vault'] },
    { id: 'CC6.3', title: 'Access changes are authorised and follow least privilege', reference: 'CC6.3', checks: ['permission_requests', 'permission_scopes'] },
    { id: 'CC6.6', title: 'Boundary protection against threats from outside the system', reference: 'CC6.6', checks: ['sandbox_template', 'content_safety'] },
    { id: 'CC6.8', title: 'Unauthorised or malicious code and content are prevented or detected', reference: 'CC6.8', checks: ['sandbox_template', 'content_safety'] },
    { id: 'CC7.2', title: 'System components are monitored for anomalies and violations', reference: 'CC7.2', checks: ['violation_monitoring', 'audit_ledger'] },
    { id: 'CC7.2-LOG-INTEGRITY', title: 'Audit evidence is complete and protected from alteration', reference: 'CC7.2; CC4.1', checks: ['audit_ledger', 'ledger_immutability'] },
    { id: 'CC7.4', title: 'Incidents are contained: agents can be halted at once', reference: 'CC7.3-CC7.4', checks: ['kill_switch', 'human_oversight'] },
    { id: 'CC8.1', title: 'Changes to policies and permissions are authorised and recorded', reference: 'CC8.1', checks: ['enforcement_policy', 'audit_ledger'] },
    { id: 'A1.1', title: 'Capacity is bounded: resource limits per execution', reference: 'A1.1', checks: ['resource_limits'] },
  ],
};
