import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../src/index.js';

describe('docs/operations.md', () => {
  it('lists every environment variable the server reads (run `npm run docs:reference` after adding one)', async () => {
    const doc = await readFile(new URL('../../../docs/operations.md', import.meta.url), 'utf8');
    const missing = Object.values(CONFIG_VARIABLES)
      .map((variable) => variable.env)
      .filter((name) => !doc.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
