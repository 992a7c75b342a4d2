import { describe, expect, it } from 'vitest';
import { isWildcardDomain } from './checks.js';
import { controlCoverage, frameworkLabel } from './evaluate.js';
import { FRAMEWORK_CATALOGUES } from './frameworks/index.js';
import { CHECK_IDS, COMPLIANCE_FRAMEWORKS } from './types.js';

describe('compliance evaluation rules', () => {
  it.each([
    [['pass', 'pass'], 'covered'],
    [['pass', 'partial'], 'partial'],
    [['partial', 'fail'], 'gap'],
    [['fail'], 'gap'],
  ] as const)('checks %j make the control %s', (statuses, expected) => {
    expect(controlCoverage(statuses.map((status) => ({ status })))).toBe(expected);
  });

  it.each([
    [{ covered: 8, partial: 0, gap: 0, total: 8 }, 'MAPPED'],
    [{ covered: 7, partial: 1, gap: 0, total: 8 }, 'DOCUMENTED'],
    [{ covered: 7, partial: 0, gap: 1, total: 8 }, 'Gap identified'],
  ] as const)('counts %j are labelled %s', (counts, label) => {
    expect(frameworkLabel(counts)).toBe(label);
  });

  it.each([
    ['*', true], ['*.com', true], ['api*', true], ['*.example.com', false], ['api.example.com', false],
  ] as const)('allowed_domains entry %s is a wildcard grant: %s', (entry, expected) => {
    expect(isWildcardDomain(entry)).toBe(expected);
  });

  it('every catalogue control has a unique id and maps to known checks', () => {
    for (const code of COMPLIANCE_FRAMEWORKS) {
      const controls = FRAMEWORK_CATALOGUES[code].controls;
      expect(new Set(controls.map((control) => control.id)).size).toBe(controls.length);
      for (const control of controls) {
        expect(control.checks.length).toBeGreaterThan(0);
        for (const check of control.checks) expect(CHECK_IDS).toContain(check);
      }
    }
  });
});
