import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without type declarations
import { DEFAULT_BUDGET_KB, measureFirstLoad } from '../scripts/bundle-size.mjs';
import { ensureDashboardBuilt } from './helpers/server.js';

describe('dashboard bundle', () => {
  it('loads at most 300 KB of gzipped JavaScript on first visit', () => {
    const result = measureFirstLoad(ensureDashboardBuilt()) as { gzipBytes: number; gzipKb: number; files: { file: string }[] };
    console.log(`dashboard first-load JS: ${result.gzipKb} KB gzipped over ${result.files.length} file(s)`);
    expect(result.files.length).toBeGreaterThan(0);
    expect(result.gzipBytes).toBeLessThanOrEqual(DEFAULT_BUDGET_KB * 1024);
  }, 180_000); // may (re)build the dashboard first when run on its own
});
