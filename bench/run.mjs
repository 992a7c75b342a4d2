#!/usr/bin/env node
// Runs every bench/*.bench.mjs (each in its own Node process, so one bench's heap and JIT state do not skew the
// next), writes bench/results/<name>.json and bench/results/summary.md. `node bench/run.mjs http ledger` runs only
// the named benches; the summary always lists the latest result of every bench, each with when it ran and the
// machine's load average then. Each bench exports `default async function run({ log }) → { name, metrics, targets, pass }`.
// Expects built packages (`npm run bench` builds first).
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const RESULTS_DIR = join(BENCH_DIR, 'results');
const PER_BENCH_TIMEOUT_MS = 180_000;

async function runChild(file, outFile) {
  const result = await import(pathToFileURL(file).href);
  const outcome = await result.default({ log: (...args) => console.log(`[${basename(file, '.bench.mjs')}]`, ...args) });
  await writeFile(outFile, JSON.stringify(outcome));
}

function runInChildProcess(file, outFile) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', file, outFile], { stdio: 'inherit' });
    const timer = setTimeout(() => child.kill('SIGKILL'), PER_BENCH_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? null : `exited with ${signal ?? `code ${code}`}`);
    });
  });
}

function formatValue(value) {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(4);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function summaryMarkdown(results) {
  const lines = [
    `# Benchmark results`,
    '',
    `Latest result of each bench (\`npm run bench\`; \`node bench/run.mjs <name>…\` re-runs some). Machine: ${process.platform}/${process.arch},`,
    'load generator and server share its cores; compare figures only with the load average they were measured at.',
    '',
  ];
  lines.push('| bench | pass | run at (load avg) | metrics | targets |', '|---|---|---|---|---|');
  for (const r of results) {
    const metrics = Object.entries(r.metrics ?? {}).map(([k, v]) => `${k}: ${formatValue(v)}`).join('<br>');
    const targets = Object.entries(r.targets ?? {}).map(([k, v]) => `${k}: ${formatValue(v)}`).join('<br>');
    const when = `${r.finishedAt ?? '?'}${r.loadAverage === undefined ? '' : ` (${r.loadAverage.toFixed(1)})`}${r.node ? `, Node ${r.node}` : ''}`;
    lines.push(`| ${r.name} | ${r.error ? `ERROR: ${r.error}` : r.pass ? 'yes' : 'NO'} | ${when} | ${metrics} | ${targets} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** The latest stored result of every bench, in file order. */
async function latestResults(files) {
  const results = [];
  for (const file of files) {
    const stored = await readFile(join(RESULTS_DIR, `${basename(file, '.bench.mjs')}.json`), 'utf8').catch(() => undefined);
    if (stored) results.push(JSON.parse(stored));
  }
  return results;
}

async function main(argv) {
  if (argv[0] === '--child') return runChild(argv[1], argv[2]);
  const only = new Set(argv);
  const files = (await readdir(BENCH_DIR)).filter((f) => f.endsWith('.bench.mjs')).sort();
  const selected = files.filter((f) => only.size === 0 || only.has(basename(f, '.bench.mjs')));
  await mkdir(RESULTS_DIR, { recursive: true });
  const results = [];
  for (const file of selected) {
    const name = basename(file, '.bench.mjs');
    const outFile = join(tmpdir(), `tollgate-bench-${process.pid}-${name}.json`);
    console.log(`\n=== ${name} ===`);
    const error = await runInChildProcess(join(BENCH_DIR, file), outFile);
    const result = error ? { name, error, pass: false } : JSON.parse(await readFile(outFile, 'utf8'));
    await rm(outFile, { force: true });
    const record = { ...result, file, finishedAt: new Date().toISOString(), loadAverage: loadavg()[0], node: process.version };
    results.push(record);
    await writeFile(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
    console.log(`=== ${name}: ${error ? `ERROR ${error}` : result.pass ? 'pass' : 'FAIL'} ===`);
  }
  await writeFile(join(RESULTS_DIR, 'summary.md'), summaryMarkdown(await latestResults(files)));
  console.log(`\nWrote ${results.length} result(s) to ${RESULTS_DIR}`);
  if (results.some((r) => !r.pass)) process.exitCode = 1;
}

await main(process.argv.slice(2));
