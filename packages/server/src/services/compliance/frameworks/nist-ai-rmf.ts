import type { FrameworkDefinition } from '../types.js';

/**
 * NIST AI RMF 1.0 subcategories (GOVERN, MAP, MEASURE, MANAGE) that the agent runtime supplies evidence for.
 *
 * @example
 * NIST_AI_RMF.controls.length;
 */
export const NIST_AI_RMF: FrameworkDefinition = {
  code: 'nist_ai_rmf',
  name: 'NIST AI RMF',
  source: 'NIST AI 100-1, AI Risk Management Framework 1.0 (January 2023)',
  controls: [
    { id: 'GOVERN-1.4', title: 'Risk management is established through transparent policies and controls', reference: 'GOVERN 1.4', checks: ['enforcement_policy'] },
    { id: 'GOVERN-1.5', title: 'Ongoing monitoring of the risk management process', reference: 'GOVERN 1.5', checks: ['violation_monitoring'] },
    { id: 'GOVERN-3.2', title: 'Roles and responsibilities for human-AI configuration and oversight', reference: 'GOVERN 3.2', checks: ['human_oversight', 'permission_requests'] },
    { id: 'MAP-3.5', title: 'Processes for human oversight are defined and in use', reference: 'MAP 3.5', checks: ['human_oversight'] },
    { id: 'MEASURE-2.4', title: 'Functionality and behaviour are monitored in production', reference: 'MEASURE 2.4', checks: ['violation_monitoring', 'audit_ledger'] },
    { id: 'MEASURE-2.7', title: 'Security and resilience are evaluated and documented', reference: 'MEASURE 2.7', checks: ['sandbox_template', 'content_safety', 'credential_vault'] },
    { id: 'MEASURE-2.8', title: 'Transparency and accountability: a verifiable record of actions', reference: 'MEASURE 2.8', checks: ['audit_ledger', 'ledger_immutability'] },
    { id: 'MANAGE-1.3', title: 'Responses to high-priority risks: least privilege and bounded resources', reference: 'MANAGE 1.3', checks: ['permission_scopes', 'resource_limits'] },
    { id: 'MANAGE-2.4', title: 'Mechanisms to supersede, disengage or deactivate the AI system', reference: 'MANAGE 2.4', checks: ['kill_switch'] },
  ],
};
