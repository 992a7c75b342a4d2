import { api } from './client.js';

/** Adapter over the enforcement area's policies API (docs/policies.md). */

export interface PolicyVersion {
  version: number;
  createdAt: string;
  active: boolean;
  comment?: string | null;
  author?: string | null;
}

export interface LintIssue {
  line: number;
  column?: number;
  message: string;
  code?: string;
  severity?: 'error' | 'warning';
}

export interface LintResult {
  valid: boolean;
  errors: LintIssue[];
}

export interface SimulationResult {
  [key: string]: unknown;
}

export const policiesApi = {
  list: (signal?: AbortSignal) =>
    api.get<{ versions: PolicyVersion[]; activeVersion: number | null }>('/api/v1/policies', undefined, signal),
  source: (version: number, signal?: AbortSignal) =>
    api.get<{ version: number; source: string }>(`/api/v1/policies/versions/${version}`, undefined, signal),
  lint: (source: string) => api.post<LintResult>('/api/v1/policies/lint', { source }),
  save: (source: string, comment: string) =>
    api.post<{ version: number }>('/api/v1/policies/versions', { source, comment: comment || undefined }),
  activate: (version: number) => api.post<unknown>(`/api/v1/policies/versions/${version}/activate`, {}),
  diff: (from: number, to: number, signal?: AbortSignal) =>
    api.get<{ diff: string }>('/api/v1/policies/diff', { from, to }, signal),
  simulate: (source: string) => api.post<SimulationResult>('/api/v1/policies/simulate', { source, days: 7 }),
};
