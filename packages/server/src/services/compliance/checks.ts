import { PERMISSION_SCOPES, SANDBOX_TEMPLATES } from '@tollgate/sandbox';
import type { ComplianceFacts } from './facts.js';
import type { CheckId, CheckResult, CheckStatus } from './types.js';

type Check = (facts: ComplianceFacts) => Omit<CheckResult, 'id' | 'title'>;

const STANDARD = SANDBOX_TEMPLATES.STANDARD;

function result(status: CheckStatus, summary: string, evidence: Record<string, unknown>, remediation: string[] = []): Omit<CheckResult, 'id' | 'title'> {
  return { status, summary, evidence, remediation: status === 'pass' ? [] : remediation };
}

/**
 * An `allowed_domains` entry that opens a whole top-level domain or everything (`*`, `*.com`): a wildcard grant.
 *
 * @example
 * isWildcardDomain('*.com'); // true
 * isWildcardDomain('*.example.com'); // false
 */
export function isWildcardDomain(entry: string): boolean {
  if (entry === '*' || entry.includes('*') && !entry.startsWith('*.')) return true;
  return entry.startsWith('*.') && !entry.slice(2).includes('.');
}

const sandboxTemplate: Check = ({ agent }) => {
  const evidence = { template: agent.resolved.template, configured: agent.config.sandbox_template ?? null };
  const fix = ["Set the agent's template to STRICT (no network) or STANDARD: new SecureAgent({ sandbox: 'STRICT' }) or PATCH config.sandbox_template."];
  switch (agent.resolved.template) {
    case 'STRICT': return result('pass', 'STRICT template: WASM sandbox, network off, content safety on, 256 MB / 120 s.', evidence);
    case 'STANDARD': return result('pass', 'STANDARD template: WASM sandbox, content safety on, 512 MB / 300 s.', evidence);
    case 'DEV': return result('fail', 'DEV template: content safety can be off and limits are the largest; not for production.', evidence, fix);
    default: return result('partial', 'No template named: the built-in defaults apply.', evidence, fix);
  }
};

const permissionScopes: Check = ({ agent }) => {
  const { permissions, allow_network: allowNetwork, allowed_domains: domains } = agent.resolved;
  const networkOpen = allowNetwork && permissions.includes('network:outbound');
  const wildcardDomains = domains.filter(isWildcardDomain);
  const allScopes = PERMISSION_SCOPES.every((scope) => permissions.includes(scope));
  const evidence = {
    granted_scopes: permissions, explicit: Array.isArray(agent.config.permissions), deny_by_default: true,
    network_egress: networkOpen, allowed_domains: domains, wildcard_domains: wildcardDomains, all_scopes_granted: allScopes,
  };
  if (wildcardDomains.length > 0 || allScopes) {
    return result('fail', `Wildcard grant: ${[allScopes ? 'every scope (FULL)' : '', ...wildcardDomains.map((d) => `allowed_domains ${d}`)].filter(Boolean).join(', ')}.`, evidence, [
      ...(allScopes ? ['Grant only the scopes the agent needs (e.g. SecureAgent.permissions.READONLY or WRITER) instead of FULL.'] : []),
      ...(wildcardDomains.length > 0 ? [`Replace ${wildcardDomains.join(', ')} in allowed_domains with the exact hosts the agent calls.`] : []),
    ]);
  }
  if (networkOpen && domains.length === 0) {
    return result('partial', 'Network egress is granted to any public HTTPS host (allowed_domains is empty).', evidence, [
      'List the hosts the agent may call in config.allowed_domains.',
    ]);
  }
  return result('pass', `Deny by default: ${permissions.length} of ${PERMISSION_SCOPES.length} scopes granted, no wildcard.`, evidence);
};

const resourceLimits: Check = ({ agent }) => {
  const r = agent.resolved;
  const evidence = { memory_limit_mb: r.memory_limit_mb, cpu_time_limit_ms: r.cpu_time_limit_ms, max_api_calls_per_run: r.max_api_calls_per_run };
  const above = Object.entries(evidence).filter(([key, value]) => value > STANDARD[key as keyof typeof evidence]).map(([key]) => key);
  if (above.length > 0) {
    return result('partial', `Limits are enforced but above the STANDARD template: ${above.join(', ')}.`, { ...evidence, above_standard: above }, [
      `Lower ${above.join(', ')} to at most the STANDARD values (512 MB, 300 s, 100 calls), e.g. limits: { maxMemoryMb: 512 }.`,
    ]);
  }
  return result('pass', `Every execution is bounded: ${r.memory_limit_mb} MB, ${r.cpu_time_limit_ms / 1000} s, ${r.max_api_calls_per_run} API calls.`, evidence);
};

const contentSafety: Check = ({ agent }) => {
  const evidence = { content_safety: agent.resolved.content_safety, template: agent.resolved.template };
  return agent.resolved.content_safety
    ? result('pass', 'Inputs and outputs of every run go through content safety (patterns and classifier).', evidence)
    : result('fail', 'Content safety is off for this agent.', evidence, ['Turn content safety on: remove content_safety: false from the config, or leave the DEV template.']);
};

const auditLedger: Check = ({ ledger }) => {
  const evidence = { records: ledger.records, agent_records: ledger.agentRecords, checkpoint: ledger.checkpoint };
  if (ledger.checkpoint === null || ledger.records === 0) {
    return result('fail', 'The tenant ledger has no signed checkpoint yet.', evidence, ['Check the server logs for ledger checkpoint failures.']);
  }
  if (!ledger.checkpoint.signature_valid) {
    return result('fail', 'The latest checkpoint does not verify against the ledger key.', evidence, ['Run tollgate audit verify on an exported bundle and investigate.']);
  }
  return result('pass', `Append-only Merkle log of ${ledger.records} records (${ledger.agentRecords} about this agent); signed checkpoint at size ${ledger.checkpoint.tree_size}.`, evidence);
};

const ledgerImmutability: Check = ({ immutability }) => {
  const missing = immutability.expected.filter((name) => !immutability.present.includes(name));
  const evidence = { dialect: immutability.dialect, triggers: immutability.present, missing };
  return missing.length === 0
    ? result('pass', `UPDATE and DELETE on the ledger are refused by database triggers (${immutability.present.length} present).`, evidence)
    : result('fail', `Append-only triggers are missing: ${missing.join(', ')}.`, evidence, ['Restore the ledger triggers (migration 0003) and verify the ledger with tollgate audit verify.']);
};

const killSwitch: Check = ({ killSwitch: kill }) => {
  const evidence = { available: true, halted_now: kill.haltedNow, agent_events: kill.agentEvents, tenant_events: kill.tenantEvents, last_event: kill.lastEvent };
  return kill.agentEvents + kill.tenantEvents > 0
    ? result('pass', `Per-agent and global kill switch available; exercised ${kill.agentEvents + kill.tenantEvents} time(s) (ledger).`, evidence)
    : result('partial', 'Kill switch available but never exercised: no record shows it halting this agent.', evidence, [
      'Run a drill: agent.stop("drill") (POST /api/sdk/agents/:id/kill), then POST /api/sdk/agents/:id/unkill.',
    ]);
};

const credentialVault: Check = ({ agent, credentials }) => {
  const missing = credentials.granted.filter((grant) => !grant.stored).map((grant) => grant.name);
  const evidence = {
    encryption: 'AES-256-GCM', active_credentials: credentials.active, revoked_credentials: credentials.revoked,
    granted_to_agent: credentials.granted, secrets_in_entry_code: agent.secretsInCode,
  };
  if (agent.secretsInCode.length > 0) {
    return result('fail', `The entry code contains secret-like values (${agent.secretsInCode.join(', ')}).`, evidence, [
      'Move the secret into the vault (agent.storeCredential) and reference it as {{credential:NAME}} in a header.',
      'Rotate the exposed secret at its issuer.',
    ]);
  }
  if (missing.length > 0) {
    return result('partial', `Credentials granted to the agent are not active in the vault: ${missing.join(', ')}.`, evidence, [
      `Store or rotate ${missing.join(', ')}, or remove them from config.credentials.`,
    ]);
  }
  return result('pass', `Secrets stay in the vault (${credentials.active} active); none in the agent's code.`, evidence);
};

const permissionRequests: Check = ({ permissionRequests: requests }) => {
  const decided = requests.approved + requests.denied;
  const evidence = { ...requests, reviewed_by_a_person: decided };
  return decided > 0
    ? result('pass', `Elevated permissions go through review: ${requests.approved} approved, ${requests.denied} denied.`, evidence)
    : result('partial', requests.expired > 0 ? `${requests.expired} request(s) expired without review.` : 'Deny by default holds, but no permission request has been reviewed yet.', evidence, [
      'Have elevated permissions requested with agent.requestPermission() and decided in the approvals queue, rather than edited into the config.',
    ]);
};

const enforcementPolicy: Check = ({ policy }) => {
  if (policy === null) {
    return result('partial', 'No active enforcement policy: governed tool calls are blocked by default, but no rules are documented.', { active: false }, [
      'Create and activate a policy (tollgate policy lint, POST /api/v1/policies, then activate).',
    ]);
  }
  const evidence = { active: true, policy_id: policy.policyId, name: policy.name, version: policy.version, rules: policy.rules, wildcard_scopes: policy.wildcardScopes };
  return policy.wildcardScopes.length > 0
    ? result('fail', `The active policy approves every tool (a scope pattern such as '*', '**' or '?*') for ${policy.wildcardScopes.join(', ')}.`, evidence, [
      'Replace the catch-all approvedScope pattern (["*"], ["**"], ["?*"], …) with the tools the agent needs.',
    ])
    : result('pass', `Policy ${policy.name} v${policy.version} is active (${policy.rules} rules).`, evidence);
};

const humanOversight: Check = ({ policy, holds, permissionRequests: requests }) => {
  const mechanisms = [...(policy?.stepUpRules.map((id) => `rule ${id}`) ?? []), ...(policy?.stepUpModes ?? [])];
  const evidence = { step_up_rules: policy?.stepUpRules ?? [], step_up_modes: policy?.stepUpModes ?? [], holds, permission_requests_reviewed: requests.approved + requests.denied };
  const fix = ['Add a STEP_UP rule for high-impact tools to the active policy, so a person approves them in the approvals queue.'];
  if (mechanisms.length > 0) return result('pass', `A person approves held actions (${mechanisms.join(', ')}); ${holds.approved + holds.denied} decided so far.`, evidence);
  if (requests.approved + requests.denied > 0) return result('partial', 'People review permission requests, but no policy rule holds actions for approval.', evidence, fix);
  return result('fail', 'No human approval step: no STEP_UP rule or mode is active.', evidence, fix);
};

const violationMonitoring: Check = ({ violations }) => {
  const evidence = { window_days: violations.windowDays, agent_violations: violations.agent, tenant_violations: violations.tenant };
  return violations.agent === 0
    ? result('pass', `Violations are recorded in the ledger; none for this agent in ${violations.windowDays} days.`, evidence)
    : result('partial', `${violations.agent} violation(s) of this agent in ${violations.windowDays} days.`, evidence, [
      'Review them: agent.getAuditLog({ violationsOnly: true }), and tighten the permissions or policy that let them happen.',
    ]);
};

/** Each check with its title, in report order. */
export const CHECKS: ReadonlyArray<readonly [CheckId, string, Check]> = [
  ['sandbox_template', 'Sandbox template', sandboxTemplate],
  ['permission_scopes', 'Permission scopes (deny by default, no wildcard)', permissionScopes],
  ['resource_limits', 'Resource limits', resourceLimits],
  ['content_safety', 'Content safety', contentSafety],
  ['audit_ledger', 'Audit ledger with a signed checkpoint', auditLedger],
  ['ledger_immutability', 'Ledger immutability triggers', ledgerImmutability],
  ['kill_switch', 'Kill switch', killSwitch],
  ['credential_vault', 'Credentials in the encrypted vault', credentialVault],
  ['permission_requests', 'Permission-request approval flow', permissionRequests],
  ['enforcement_policy', 'Enforcement policy', enforcementPolicy],
  ['human_oversight', 'Human oversight (step-up holds)', humanOversight],
  ['violation_monitoring', 'Violation monitoring', violationMonitoring],
];

/**
 * Runs every check over the gathered facts.
 *
 * @example
 * runChecks(facts).find((check) => check.id === 'sandbox_template')?.status; // 'pass'
 */
export function runChecks(facts: ComplianceFacts): CheckResult[] {
  return CHECKS.map(([id, title, check]) => ({ id, title, ...check(facts) }));
}
