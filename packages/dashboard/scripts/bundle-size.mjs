#!/usr/bin/env node
// Reports the gzipped size of the JavaScript the browser loads on first visit (the scripts
// index.html references plus their static imports) and fails when it exceeds the budget.
// Usage: node scripts/bundle-size.mjs [--json] [--budget-kb 300]
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const DEFAULT_BUDGET_KB = 300;

/** @param {string} distDir */
export function measureFirstLoad(distDir) {
  const html = readFileSync(join(distDir, 'index.html'), 'utf8');
  const entries = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="\/?([^"]+\.js)"/g)].map((m) => m[1]);
  const seen = new Set();
  const queue = [...entries];
  const files = [];
  while (queue.length > 0) {
    const file = queue.shift();
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(join(distDir, file));
    files.push({ file, bytes: source.length, gzipBytes: gzipSync(source, { level: 9 }).length });
    // Static imports of the chunk (dynamic import() chunks are not part of the first load).
    for (const match of source.toString('utf8').matchAll(/(?:^|[;\n}])\s*import\s*(?:[^'"()]*?from\s*)?["']\.\/([^"']+\.js)["']/g)) {
      queue.push(join(dirname(file), match[1]));
    }
  }
  const gzipBytes = files.reduce((sum, entry) => sum + entry.gzipBytes, 0);
  return { files, gzipBytes, gzipKb: Math.round((gzipBytes / 1024) * 10) / 10 };
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const distDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
  if (!existsSync(join(distDir, 'index.html'))) {
    console.error('bundle-size: dist/index.html missing; run `npm run build -w @tollgate/dashboard` first');
    process.exit(1);
  }
  const budgetIndex = process.argv.indexOf('--budget-kb');
  const budgetKb = budgetIndex > 0 ? Number(process.argv[budgetIndex + 1]) : DEFAULT_BUDGET_KB;
  const result = measureFirstLoad(distDir);
  if (process.argv.includes('--json')) console.log(JSON.stringify({ ...result, budgetKb }));
  else {
    for (const entry of result.files) console.log(`  ${entry.file}  ${(entry.bytes / 1024).toFixed(1)} KB  (${(entry.gzipBytes / 1024).toFixed(1)} KB gzip)`);
    console.log(`dashboard first-load JS: ${result.gzipKb} KB gzipped (budget ${budgetKb} KB)`);
  }
  if (result.gzipBytes > budgetKb * 1024) {
    console.error(`bundle-size: first-load JS ${result.gzipKb} KB gzipped exceeds the ${budgetKb} KB budget`);
    process.exit(1);
  }
}
