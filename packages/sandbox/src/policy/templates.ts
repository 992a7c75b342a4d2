import { TollgateError } from '@tollgate/core';
import { PERMISSION_PRESETS, isPermissionScope } from './permissions.js';
import type { PermissionScope } from './permissions.js';
import { domainEntryProblem, normalizeDomainEntry } from '../network/domains.js';

/** Names of the sandbox policy templates. */
export type SandboxTemplateName = 'STRICT' | 'STANDARD' | 'DEV';

/** The AgentConfig fields of the seed (snake_case, as on the wire), plus the agent's granted scopes. */
export interface AgentConfig {
  /** Guest heap cap in MB. */
  memory_limit_mb?: number;
  /** Wall-clock execution timeout in ms (the seed's name; CPU time is bounded by it). */
  cpu_time_limit_ms?: number;
  /** Maximum quota-counted host calls (`http_request`, `read_context`) per run. */
  max_api_calls_per_run?: number;
  /** Rate of quota-counted host calls per rolling minute within one run (the seed's "API calls / minute"). */
  max_api_calls_per_minute?: number;
  /** Enables `http_request`. */
  allow_network?: boolean;
  /** Reserved by the seed; no filesystem host function exists, so it grants nothing today. */
  allow_filesystem?: boolean;
  /** STRICT / STANDARD / DEV. */
  sandbox_template?: SandboxTemplateName;
  /**
   * Hosts `http_request` may reach; empty means any public HTTPS host and port. `*.example.com` matches subdomains.
   * An entry without a port allows the default port only (443, 80 for plain http); `api.example.com:8443` names one.
   */
  allowed_domains?: string[];
  /** Granted scopes; deny by default (READONLY when absent, as the seed's `SecureAgent` constructor). */
  permissions?: string[];
  /** Content safety on inputs/outputs (applied by the server; the runtime only carries the flag). */
  content_safety?: boolean;
}

/** Fully resolved limits and grants for one execution. */
export interface ResolvedSandboxConfig {
  template: SandboxTemplateName | null;
  memory_limit_mb: number;
  cpu_time_limit_ms: number;
  max_api_calls_per_run: number;
  max_api_calls_per_minute: number;
  allow_network: boolean;
  allow_filesystem: boolean;
  allowed_domains: string[];
  permissions: PermissionScope[];
  content_safety: boolean;
}

/**
 * The seed's "API calls / minute (per execution)" default; every template uses it, an agent overrides it with
 * `max_api_calls_per_minute`.
 *
 * @example
 * resolveSandboxConfig({}).max_api_calls_per_minute; // 60
 */
export const DEFAULT_API_CALLS_PER_MINUTE = 60;

type TemplateValues = Omit<ResolvedSandboxConfig, 'template' | 'allowed_domains' | 'permissions'>;

/**
 * The seed's templates. STRICT blocks the network; DEV turns content safety off and is not for production.
 *
 * @example
 * SANDBOX_TEMPLATES.STRICT.memory_limit_mb; // 256
 */
export const SANDBOX_TEMPLATES: Readonly<Record<SandboxTemplateName, Readonly<TemplateValues>>> = Object.freeze({
  STRICT: Object.freeze({
    memory_limit_mb: 256, cpu_time_limit_ms: 120_000, max_api_calls_per_run: 50, max_api_calls_per_minute: DEFAULT_API_CALLS_PER_MINUTE,
    allow_network: false, allow_filesystem: false, content_safety: true,
  }),
  STANDARD: Object.freeze({
    memory_limit_mb: 512, cpu_time_limit_ms: 300_000, max_api_calls_per_run: 100, max_api_calls_per_minute: DEFAULT_API_CALLS_PER_MINUTE,
    allow_network: true, allow_filesystem: false, content_safety: true,
  }),
  DEV: Object.freeze({
    memory_limit_mb: 2048, cpu_time_limit_ms: 600_000, max_api_calls_per_run: 500, max_api_calls_per_minute: DEFAULT_API_CALLS_PER_MINUTE,
    allow_network: true, allow_filesystem: false, content_safety: false,
  }),
});

/**
 * AgentConfig defaults of the seed's table, used when no template is named (the seed's REST `curl` flow).
 *
 * @example
 * DEFAULT_AGENT_CONFIG.memory_limit_mb; // 128
 */
export const DEFAULT_AGENT_CONFIG: Readonly<TemplateValues> = Object.freeze({
  memory_limit_mb: 128, cpu_time_limit_ms: 30_000, max_api_calls_per_run: 50, max_api_calls_per_minute: DEFAULT_API_CALLS_PER_MINUTE,
  allow_network: false, allow_filesystem: false, content_safety: true,
});

/** Hard ceilings no config can exceed (WASM32 addresses 4 GiB; a run longer than an hour is a job, not a call). */
export const MAX_MEMORY_LIMIT_MB = 3072;
export const MAX_CPU_TIME_LIMIT_MS = 3_600_000;
export const MAX_API_CALLS_PER_RUN = 100_000;
export const MAX_API_CALLS_PER_MINUTE = 100_000;

const TEMPLATE_NAMES = new Set<string>(['STRICT', 'STANDARD', 'DEV']);

/**
 * Merges template → agent config → overrides (later wins, field by field). The template is the one named by
 * `overrides`, then the agent config; with none named, {@link DEFAULT_AGENT_CONFIG} is the base. Throws
 * `VALIDATION_FAILED` for unknown templates, scopes or out-of-range numbers.
 *
 * @example
 * resolveSandboxConfig({ sandbox_template: 'STRICT' }, { memory_limit_mb: 512 }).memory_limit_mb; // 512
 */
export function resolveSandboxConfig(agentConfig: AgentConfig = {}, overrides: AgentConfig = {}): ResolvedSandboxConfig {
  const templateName = overrides.sandbox_template ?? agentConfig.sandbox_template ?? null;
  if (templateName !== null && !TEMPLATE_NAMES.has(templateName)) {
    throw invalid('sandbox_template', `must be STRICT, STANDARD or DEV, got ${JSON.stringify(templateName)}`);
  }
  const base = templateName === null ? DEFAULT_AGENT_CONFIG : SANDBOX_TEMPLATES[templateName];
  const pick = <K extends keyof AgentConfig>(key: K): AgentConfig[K] => overrides[key] ?? agentConfig[key];
  return {
    template: templateName,
    memory_limit_mb: number('memory_limit_mb', pick('memory_limit_mb') ?? base.memory_limit_mb, MAX_MEMORY_LIMIT_MB),
    cpu_time_limit_ms: number('cpu_time_limit_ms', pick('cpu_time_limit_ms') ?? base.cpu_time_limit_ms, MAX_CPU_TIME_LIMIT_MS),
    max_api_calls_per_run: number('max_api_calls_per_run', pick('max_api_calls_per_run') ?? base.max_api_calls_per_run, MAX_API_CALLS_PER_RUN, 0),
    max_api_calls_per_minute: number('max_api_calls_per_minute', pick('max_api_calls_per_minute') ?? base.max_api_calls_per_minute, MAX_API_CALLS_PER_MINUTE),
    allow_network: bool('allow_network', pick('allow_network') ?? base.allow_network),
    allow_filesystem: bool('allow_filesystem', pick('allow_filesystem') ?? base.allow_filesystem),
    content_safety: bool('content_safety', pick('content_safety') ?? base.content_safety),
    allowed_domains: domains(pick('allowed_domains') ?? []),
    permissions: scopes(pick('permissions') ?? [...PERMISSION_PRESETS.READONLY]),
  };
}

function number(field: string, value: unknown, max: number, min = 1): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(field, `must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return Math.floor(value);
}

function bool(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalid(field, `must be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

function domains(value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((d) => typeof d === 'string' && d.length > 0 && d.length <= 253)) {
    throw invalid('allowed_domains', 'must be an array of host names');
  }
  return value.map((entry: string) => {
    const problem = domainEntryProblem(entry);
    if (problem !== undefined) throw invalid('allowed_domains', `entry ${JSON.stringify(entry)} ${problem}`);
    return normalizeDomainEntry(entry);
  });
}

function scopes(value: unknown): PermissionScope[] {
  if (!Array.isArray(value)) throw invalid('permissions', 'must be an array of scopes');
  const unknown = value.filter((s) => !isPermissionScope(s));
  if (unknown.length > 0) throw invalid('permissions', `unknown scope(s): ${unknown.map((s) => JSON.stringify(s)).join(', ')}`);
  return [...new Set(value as PermissionScope[])];
}

function invalid(field: string, message: string): TollgateError {
  return new TollgateError('VALIDATION_FAILED', `${field} ${message}`, { details: { field } });
}
