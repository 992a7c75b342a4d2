import { describe, expect, it } from 'vitest';
import { PERMISSION_PRESETS, PERMISSION_SCOPES } from './permissions.js';
import { DEFAULT_AGENT_CONFIG, resolveSandboxConfig, SANDBOX_TEMPLATES } from './templates.js';

describe('seed data', () => {
  it('has the seed template defaults', () => {
    expect(SANDBOX_TEMPLATES).toMatchObject({
      STRICT: { memory_limit_mb: 256, cpu_time_limit_ms: 120_000, max_api_calls_per_run: 50, allow_network: false, content_safety: true },
      STANDARD: { memory_limit_mb: 512, cpu_time_limit_ms: 300_000, max_api_calls_per_run: 100, allow_network: true, content_safety: true },
      DEV: { memory_limit_mb: 2048, cpu_time_limit_ms: 600_000, max_api_calls_per_run: 500, allow_network: true, content_safety: false },
    });
  });

  it('has the seed CODER preset and FULL = every scope', () => {
    expect(PERMISSION_PRESETS.CODER).toEqual(['compute:read', 'compute:write', 'inference:call', 'data:read', 'network:outbound']);
    expect(PERMISSION_PRESETS.FULL).toEqual(PERMISSION_SCOPES);
    expect(PERMISSION_PRESETS.READONLY).not.toContain('network:outbound');
    expect(PERMISSION_PRESETS.RESEARCHER).not.toContain('agents:write');
  });

  it('freezes presets so callers cannot widen them', () => {
    expect(Object.isFrozen(PERMISSION_PRESETS.READONLY)).toBe(true);
  });
});

describe('resolveSandboxConfig', () => {
  it('uses the seed AgentConfig defaults (deny by default) when no template is named', () => {
    expect(resolveSandboxConfig({})).toEqual({
      template: null, ...DEFAULT_AGENT_CONFIG, allowed_domains: [], permissions: [...PERMISSION_PRESETS.READONLY],
    });
  });

  it('merges template, then agent config, then overrides', () => {
    const resolved = resolveSandboxConfig(
      { sandbox_template: 'STRICT', memory_limit_mb: 300, cpu_time_limit_ms: 1000 },
      { memory_limit_mb: 512, allowed_domains: ['API.Example.com.'] },
    );
    expect(resolved).toMatchObject({
      template: 'STRICT', memory_limit_mb: 512, cpu_time_limit_ms: 1000, max_api_calls_per_run: 50, allow_network: false,
      allowed_domains: ['api.example.com'],
    });
  });

  it('lets overrides pick another template', () => {
    expect(resolveSandboxConfig({ sandbox_template: 'STRICT' }, { sandbox_template: 'DEV' }).memory_limit_mb).toBe(2048);
  });

  it.each([
    [{ sandbox_template: 'LAX' }, 'sandbox_template'],
    [{ memory_limit_mb: 0 }, 'memory_limit_mb'],
    [{ memory_limit_mb: 99_999 }, 'memory_limit_mb'],
    [{ cpu_time_limit_ms: -5 }, 'cpu_time_limit_ms'],
    [{ max_api_calls_per_run: Number.NaN }, 'max_api_calls_per_run'],
    [{ allow_network: 'yes' }, 'allow_network'],
    [{ allowed_domains: [''] }, 'allowed_domains'],
    [{ allowed_domains: ['api.example.com:99999'] }, 'allowed_domains'],
    [{ permissions: ['root:all'] }, 'permissions'],
  ])('rejects %o with VALIDATION_FAILED naming %s', (config, field) => {
    expect(() => resolveSandboxConfig(config as never)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field } }));
  });
});
