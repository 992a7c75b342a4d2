// HTTP overhead of Tollgate: requests/s of an authenticated trivial route (GET /api/v1/auth/whoami: API-key
// auth, scope check, metrics, request id, JSON) against a bare node:http handler answering the same JSON, measured
// in the same run on the same machine with autocannon (50 connections). Each server runs in its own process;
// autocannon runs in this one. Target: ratio >= 0.8. Tollgate runs with TOLLGATE_LOG_LEVEL=warn (per-request
// "incoming/completed" lines are info level; with them on, throughput is bounded by log writing, not by Tollgate).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CONNECTIONS = 50;
const DURATION_S = 8;
const WARMUP_S = 2;
const ADMIN_KEY = `tg_live_bench0000000000_${'b'.repeat(64)}`;

const BARE_SERVER = `
const http = require('node:http');
const body = JSON.stringify({ tenantId: 'default', keyId: 'bench', scopes: ['admin'] });
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => console.log('Tollgate listening on http://127.0.0.1:' + server.address().port));
`;

function startProcess(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/[\d.:]+)/.exec(output);
      if (match) resolve({ url: match[1], child });
    });
    child.on('exit', (code) => reject(new Error(`server exited early (${code}): ${output}`)));
  });
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function load(url, headers, duration) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration, headers }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

async function measure(name, url, headers, log) {
  await load(url, headers, WARMUP_S);
  const result = await load(url, headers, DURATION_S);
  const non2xx = result.non2xx + result.errors;
  log(`${name}: ${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms, non-2xx/errors ${non2xx}`);
  if (non2xx > 0) throw new Error(`${name}: ${non2xx} failed requests`);
  return result;
}

export default async function run({ log = console.log } = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-http-bench-'));
  const bare = await startProcess(['-e', BARE_SERVER], {});
  let tollgate;
  try {
    const bareResult = await measure('bare node:http', `${bare.url}/`, {}, log);
    await stop(bare.child);
    tollgate = await startProcess([join(ROOT, 'packages/cli/dist/bin.js'), 'serve', '--port', '0', '--data-dir', dataDir], {
      TOLLGATE_ADMIN_KEY: ADMIN_KEY,
      TOLLGATE_LOG_LEVEL: 'warn',
      DATABASE_URL: '',
    });
    const tgResult = await measure('tollgate authenticated', `${tollgate.url}/api/v1/auth/whoami`, { authorization: `Bearer ${ADMIN_KEY}` }, log);
    const ratio = tgResult.requests.average / bareResult.requests.average;
    log(`ratio ${ratio.toFixed(3)}`);
    return {
      name: 'http',
      metrics: {
        bareRequestsPerSecond: Math.round(bareResult.requests.average),
        tollgateRequestsPerSecond: Math.round(tgResult.requests.average),
        ratio: Number(ratio.toFixed(3)),
        tollgateLatencyP99Ms: tgResult.latency.p99,
        bareLatencyP99Ms: bareResult.latency.p99,
        connections: CONNECTIONS,
        durationSeconds: DURATION_S,
      },
      targets: { ratio: '>= 0.8' },
      pass: ratio >= 0.8,
    };
  } finally {
    await stop(bare.child).catch(() => undefined);
    if (tollgate) await stop(tollgate.child).catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  }
}
