import { api } from './client.js';

/** Adapter over the enforcement area's policies API (`/api/v1/policies`, scope `policies`). */

export interface PolicySummary {
  id: string;
  name: string;
  description: string | null;
  latestVersion: number;
  active: boolean;
  activeVersion: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface PolicyVersion {
  policyId: string;
  version: number;
  source: string;
  sourceHash: string;
  comment: string | null;
  createdAt: string;
  createdBy: string | null;
}

export interface Diagnostic {
  severity: string;
  code: string;
  message: string;
  path: string;
  line: number;
  column: number;
}

export interface LintResult {
  ok: boolean;
  diagnostics: Diagnostic[];
}

export interface PolicyDiff {
  from: number;
  to: number;
  rules: { added: string[]; removed: string[]; changed: string[] };
  agents: { added: string[]; removed: string[]; changed: string[] };
  lines: { op: ' ' | '+' | '-'; text: string }[];
}

export interface SimulationResult {
  scanned: number;
  changed: number;
  unchanged: number;
  skipped: number;
  truncated: boolean;
  transitions: Record<string, number>;
  recordedCounts: Record<string, number>;
  replayedCounts: Record<string, number>;
  ruleHits: Record<string, number>;
  examples: {
    decisionId: string;
    ts: string;
    agentId: string;
    toolName: string;
    recorded: { decision: string; reason: string };
    replayed: { decision: string; reason: string };
  }[];
}

/** Simulations replay the decisions of this many days. */
export const SIMULATION_DAYS = 7;

export const policiesApi = {
  list: (signal?: AbortSignal) => api.get<{ policies: PolicySummary[] }>('/api/v1/policies', undefined, signal),
  get: (id: string, signal?: AbortSignal) =>
    api.get<{ policy: PolicySummary; versions: PolicyVersion[] }>(`/api/v1/policies/${encodeURIComponent(id)}`, undefined, signal),
  lint: (source: string) => api.post<LintResult>('/api/v1/policies/lint', { source }),
  create: (name: string, source: string, comment: string) =>
    api.post<PolicySummary>('/api/v1/policies', { name, source, comment: comment || null }),
  addVersion: (id: string, source: string, comment: string) =>
    api.post<PolicyVersion>(`/api/v1/policies/${encodeURIComponent(id)}/versions`, { source, comment: comment || null }),
  activate: (id: string, version: number) => api.post<unknown>(`/api/v1/policies/${encodeURIComponent(id)}/activate`, { version }),
  diff: (id: string, from: number, to: number, signal?: AbortSignal) =>
    api.get<PolicyDiff>(`/api/v1/policies/${encodeURIComponent(id)}/diff`, { from, to }, signal),
  simulate: (id: string, source: string, now: number) =>
    api.post<SimulationResult>(`/api/v1/policies/${encodeURIComponent(id)}/simulate`, {
      source,
      from: new Date(now - SIMULATION_DAYS * 86_400_000).toISOString(),
      examples: 20,
    }),
};
