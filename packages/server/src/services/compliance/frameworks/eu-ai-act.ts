import type { FrameworkDefinition } from '../types.js';

/**
 * EU AI Act controls Tollgate can supply runtime evidence for: the high-risk requirements of Chapter III Section 2
 * (Articles 9, 12, 14, 15) and the deployer's monitoring and log-keeping duties (Article 26). Data governance
 * (Article 10), technical documentation (Article 11) and conformity assessment are outside what a runtime can show.
 *
 * @example
 * EU_AI_ACT.controls.map((control) => control.id);
 */
export const EU_AI_ACT: FrameworkDefinition = {
  code: 'eu_ai_act',
  name: 'EU AI Act',
  source: 'Regulation (EU) 2024/1689, Chapter III Section 2 and Article 26',
  controls: [
    { id: 'EU-ART9-RISK', title: 'Risk management: identified risks are met by enforced controls', reference: 'Article 9(2)(d)', checks: ['enforcement_policy', 'permission_scopes'] },
    { id: 'EU-ART12-LOGGING', title: 'Automatic recording of events over the lifetime of the system', reference: 'Article 12(1)-(2)', checks: ['audit_ledger'] },
    { id: 'EU-ART12-INTEGRITY', title: 'Logs are tamper-evident and cannot be altered in place', reference: 'Article 12; Article 19(1)', checks: ['audit_ledger', 'ledger_immutability'] },
    { id: 'EU-ART14-OVERSIGHT', title: 'Human oversight: a person approves high-impact actions and elevated permissions', reference: 'Article 14(1), 14(4)(d)', checks: ['human_oversight', 'permission_requests'] },
    { id: 'EU-ART14-STOP', title: 'A stop button: the system can be interrupted and halted safely', reference: 'Article 14(4)(e)', checks: ['kill_switch'] },
    { id: 'EU-ART15-ROBUSTNESS', title: 'Robustness: isolated execution within resource bounds', reference: 'Article 15(1), 15(4)', checks: ['sandbox_template', 'resource_limits'] },
    { id: 'EU-ART15-CYBERSECURITY', title: 'Cybersecurity: resilience to manipulated inputs (prompt injection) and protection of secrets', reference: 'Article 15(5)', checks: ['content_safety', 'credential_vault'] },
    { id: 'EU-ART26-MONITORING', title: 'Deployer monitors operation and keeps the logs under its control', reference: 'Article 26(5)-(6)', checks: ['violation_monitoring', 'audit_ledger'] },
  ],
};
