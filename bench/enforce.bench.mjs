// Enforcement benchmark (issue 3).
// 1. In-process evaluation of a 100-rule policy (50 CEL conditions): per-decision time from
//    process.hrtime.bigint() over batches of 1,000 calls (p50/p99 of the batch means), plus single-call percentiles.
//    Targets: p50 ≤ 1 µs, p99 ≤ 5 µs.
// 2. POST /v1/enforce over HTTP with durable recording (SQLite, group commit), 50 connections (autocannon),
//    against a bare node:http handler measured in the same run. Targets: ≥ 0.5× bare req/s, p99 ≤ 5 ms.
// 3. Hold release: time from sending an approval to the answer of a waiting long poll (target ≤ 100 ms).
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createSessionState, evaluatePolicy, loadPolicy } from '../packages/core/dist/index.js';
import { BENCH_TOOLS, benchCalls, benchPolicyYaml } from './enforce-policy-fixture.mjs';

const BATCH = 1_000;
const BATCHES = 2_000;
const HTTP_SECONDS = 10;
const CONNECTIONS = 50;
const HOLD_ROUNDS = 20;

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function measureInProcess(log) {
  const loaded = loadPolicy(benchPolicyYaml());
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  const calls = benchCalls(BATCH);
  const state = { session: createSessionState() };
  let sink = 0;
  for (let i = 0; i < 300; i += 1) for (const call of calls) sink += evaluatePolicy(loaded.policy, call, state).matchedRules.length;
  const batchMeans = [];
  for (let b = 0; b < BATCHES; b += 1) {
    const started = process.hrtime.bigint();
    for (const call of calls) sink += evaluatePolicy(loaded.policy, call, state).matchedRules.length;
    batchMeans.push(Number(process.hrtime.bigint() - started) / BATCH / 1_000);
  }
  const singles = [];
  for (let i = 0; i < 200_000; i += 1) {
    const call = calls[i % BATCH];
    const started = process.hrtime.bigint();
    sink += evaluatePolicy(loaded.policy, call, state).matchedRules.length;
    singles.push(Number(process.hrtime.bigint() - started) / 1_000);
  }
  batchMeans.sort((a, b) => a - b);
  singles.sort((a, b) => a - b);
  const result = {
    p50_us: percentile(batchMeans, 50), p99_us: percentile(batchMeans, 99),
    single_call_p50_us: percentile(singles, 50), single_call_p99_us: percentile(singles, 99), checksum: sink,
  };
  log(`in-process, 100 rules: batch-mean p50 ${result.p50_us.toFixed(3)} µs, p99 ${result.p99_us.toFixed(3)} µs; single call (incl. timer) p50 ${result.single_call_p50_us.toFixed(3)} µs, p99 ${result.single_call_p99_us.toFixed(3)} µs`);
  return result;
}

function startChild(mode) {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./enforce-servers.mjs', import.meta.url)), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const line = buffer.split('\n')[0];
      if (buffer.includes('\n')) resolve({ child, ...JSON.parse(line) });
    });
    child.on('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
}

function load(url, key) {
  const bodies = [];
  for (let i = 0; i < 500; i += 1) {
    bodies.push(JSON.stringify({
      agentId: 'bench-agent', userId: i % 7 === 0 ? 'mallory' : 'alice', sessionId: `s-${i % 100}`, toolName: `tool_${i % BENCH_TOOLS}`,
      arguments: { amount: (i * 37) % 3000, region: i % 3 === 0 ? 'eu' : 'us' }, enforcement: 'observe', callId: `c-${i}`,
    }));
  }
  let next = 0;
  const headers = { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) };
  return new Promise((resolve, reject) => {
    autocannon({
      url: `${url}/v1/enforce`, connections: CONNECTIONS, duration: HTTP_SECONDS, method: 'POST', headers,
      requests: [{ setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }) }],
    }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

async function measureHttp(log) {
  const bare = await startChild('bare');
  const tollgate = await startChild('tollgate');
  try {
    await load(tollgate.url, tollgate.key); // warm-up run (JIT, SQLite pages); not reported
    const bareResult = await load(bare.url);
    const tollgateResult = await load(tollgate.url, tollgate.key);
    const hold = await measureHoldRelease(tollgate.url, tollgate.key);
    const result = {
      bare_rps: bareResult.requests.average, tollgate_rps: tollgateResult.requests.average,
      ratio: tollgateResult.requests.average / bareResult.requests.average,
      tollgate_p50_ms: tollgateResult.latency.p50, tollgate_p99_ms: tollgateResult.latency.p99, bare_p99_ms: bareResult.latency.p99,
      tollgate_non2xx: tollgateResult.non2xx + tollgateResult.errors, hold_release_max_ms: hold.max, hold_release_p50_ms: hold.p50,
    };
    log(`HTTP, ${CONNECTIONS} connections: bare ${result.bare_rps.toFixed(0)} req/s (p99 ${result.bare_p99_ms} ms), /v1/enforce ${result.tollgate_rps.toFixed(0)} req/s (${result.ratio.toFixed(2)}×), p99 ${result.tollgate_p99_ms} ms, non-2xx/errors ${result.tollgate_non2xx}; load average ${loadavg()[0].toFixed(1)}`);
    log(`hold release after approval: p50 ${hold.p50.toFixed(1)} ms, max ${hold.max.toFixed(1)} ms`);
    return result;
  } finally {
    bare.child.kill();
    tollgate.child.kill();
  }
}

async function post(url, key, path, body) {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.json();
}

async function measureHoldRelease(url, key) {
  const samples = [];
  for (let i = 0; i < HOLD_ROUNDS; i += 1) {
    const decision = await post(url, key, '/v1/enforce', { agentId: 'bench-agent', sessionId: `hold-${i}`, toolName: 'tool_1', arguments: { amount: 5000, region: 'us' } });
    if (decision.decision !== 'STEP_UP') throw new Error(`expected STEP_UP, got ${JSON.stringify(decision)}`);
    const waiting = fetch(`${url}/v1/enforce/hold/${decision.holdToken}?waitMs=20000`, { headers: { authorization: `Bearer ${key}` } }).then(async (res) => ({ at: process.hrtime.bigint(), body: await res.json() }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const sent = process.hrtime.bigint();
    await post(url, key, `/api/v1/approvals/${decision.holdToken}/approve`, { approver: 'bench' });
    const released = await waiting;
    if (released.body.status !== 'approved') throw new Error(`hold not approved: ${JSON.stringify(released.body)}`);
    samples.push(Number(released.at - sent) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), max: samples.at(-1) };
}

export default async function run({ log = console.log } = {}) {
  const inProcess = measureInProcess(log);
  const http = await measureHttp(log);
  const metrics = {
    eval_p50_us: inProcess.p50_us, eval_p99_us: inProcess.p99_us,
    eval_single_call_p50_us: inProcess.single_call_p50_us, eval_single_call_p99_us: inProcess.single_call_p99_us,
    http_bare_rps: http.bare_rps, http_enforce_rps: http.tollgate_rps, http_ratio: http.ratio,
    http_enforce_p50_ms: http.tollgate_p50_ms, http_enforce_p99_ms: http.tollgate_p99_ms, http_bare_p99_ms: http.bare_p99_ms, http_enforce_non2xx: http.tollgate_non2xx,
    load_average_1m: loadavg()[0],
    hold_release_p50_ms: http.hold_release_p50_ms, hold_release_max_ms: http.hold_release_max_ms,
  };
  const targets = { eval_p50_us: '<= 1', eval_p99_us: '<= 5', http_ratio: '>= 0.5', http_enforce_p99_ms: '<= 5', hold_release_max_ms: '<= 100' };
  const pass = metrics.eval_p50_us <= 1 && metrics.eval_p99_us <= 5 && metrics.http_ratio >= 0.5 && metrics.http_enforce_p99_ms <= 5
    && metrics.hold_release_max_ms <= 100 && metrics.http_enforce_non2xx === 0;
  return { name: 'enforce', metrics, targets, pass };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then((result) => console.log(JSON.stringify(result, null, 2)), (error) => { console.error(error); process.exit(1); });
}
