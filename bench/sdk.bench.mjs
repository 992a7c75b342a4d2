// SDK benchmark (issue 4). Runs against the built packages (`npm run bench` builds first) and a real Tollgate
// server (SQLite) in a child process, so the server does not share the SDK's event loop.
// 1. Overhead of an instrumented call in observe mode against the bare call (the tool is an async no-op; the
//    instrumented call includes the /v1/enforce round trip on loopback). For reference the same request made with
//    plain fetch: the difference is the SDK's own cost (events, ids, redaction). Target: ≤ 0.5 ms at p50.
// 2. Full round trip in block mode: /v1/enforce, the tool, events queued; ALLOW and BLOCK (reported).
// 3. Event pipeline: cost of queuing an event (the tool never waits for delivery) and delivered events/s.
// 4. Events API: ingest rate of 100,000 events, then keyset page latency (limit 100) across the whole range,
//    by session and by agent, over HTTP. Target: p50 page ≤ 25 ms.
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CALLS = 2_000;
const WARMUP = 200;
const EVENTS = 100_000;
const POLICY = `
name: sdk-bench
agents:
  "*":
    approvedScope: ["*"]
rules:
  - id: never-delete
    match: { tools: [delete_record] }
    effect: BLOCK
    reason: records are never deleted by an agent
`;

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const stats = (samples) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length };
};
const round = (value, digits = 3) => Number(value.toFixed(digits));

async function serveTollgate() {
  const { generateApiKey, loadConfig, startTollgate } = await import('../packages/server/dist/index.js');
  const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-bench-sdk-'));
  const adminKey = generateApiKey().token;
  const running = await startTollgate({ config: loadConfig({}, { port: 0, host: '127.0.0.1', dataDir, adminKey, logLevel: 'silent' }) });
  const response = await fetch(`${running.url}/api/v1/policies`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'sdk-bench', source: POLICY, activate: true }),
  });
  if (response.status !== 201) throw new Error(`policy: ${response.status} ${await response.text()}`);
  process.stdout.write(`${JSON.stringify({ url: running.url, key: adminKey })}\n`);
}

function startServerProcess() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const line = buffer.split('\n')[0];
      if (buffer.includes('\n')) resolve({ ...JSON.parse(line), child });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function measureCalls(sdk, server, log) {
  const common = { apiUrl: server.url, apiKey: server.key, approvedScope: ['read_file', 'delete_record'], logLevel: 'SILENT' };
  const bare = async (path) => `contents of ${path}`;
  const observe = sdk.wrapToolFunctions({ read_file: bare }, { ...common, agentId: 'bench-observe', enforcement: 'observe' });
  const block = sdk.wrapToolFunctions({ read_file: bare, delete_record: bare }, { ...common, agentId: 'bench-block', enforcement: 'block' });
  // Interleaved (one call of each kind per round), so load on this shared machine hits every kind alike.
  // Reference: the same /v1/enforce request with plain fetch, so the SDK's own cost can be told from the round trip.
  const enforceHeaders = { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' };
  const rawEnforce = async (index) => {
    const body = { agentId: 'bench-raw', userId: 'system', sessionId: 'bench-raw', toolName: 'read_file', arguments: `/tmp/${index}`, enforcement: 'observe', approvedScope: ['read_file'], callId: crypto.randomUUID() };
    const response = await fetch(`${server.url}/v1/enforce`, { method: 'POST', headers: enforceHeaders, body: JSON.stringify(body) });
    await response.json();
    return bare(`/tmp/${index}`);
  };
  const kinds = {
    bare: (index) => bare(`/tmp/${index}`),
    raw: rawEnforce,
    observe: (index) => observe.read_file(`/tmp/${index}`),
    allow: (index) => block.read_file(`/tmp/${index}`),
    block: (index) => block.delete_record(`${index}`).catch(() => undefined),
  };
  const samples = { bare: [], raw: [], observe: [], allow: [], block: [] };
  for (let index = 0; index < WARMUP + CALLS; index += 1) {
    for (const [kind, fn] of Object.entries(kinds)) {
      const started = process.hrtime.bigint();
      await fn(index);
      if (index >= WARMUP) samples[kind].push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  }
  const [bareStats, rawStats, observeStats, allowStats, blockStats] = ['bare', 'raw', 'observe', 'allow', 'block'].map((kind) => stats(samples[kind]));
  await sdk.flush(30_000);
  log(`bare p50 ${bareStats.p50.toFixed(4)} ms, plain fetch of /v1/enforce p50 ${rawStats.p50.toFixed(3)} ms, observe p50 ${observeStats.p50.toFixed(3)} ms, block ALLOW p50 ${allowStats.p50.toFixed(3)} ms, BLOCK p50 ${blockStats.p50.toFixed(3)} ms`);
  return { bareStats, rawStats, observeStats, allowStats, blockStats };
}

async function measureQueue(sdk, server, log) {
  // Events only (no enforcement): a dedicated runtime with a queue large enough for the whole run.
  const runtime = new sdk.TollgateRuntime();
  const governor = runtime.governor({ agentId: 'bench-events', apiUrl: server.url, apiKey: server.key, logLevel: 'SILENT', events: { maxQueueSize: 200_000, batchSize: 1000, flushIntervalMs: 50 } });
  const count = 50_000;
  const event = (index) => ({ eventId: crypto.randomUUID(), eventType: 'TOOL_CALL_PRE', sourceType: 'SDK', agentId: 'bench-events', userId: 'system', sessionId: 'bench-events', toolName: 'read_file', callId: `c${index}`, timestamp: new Date().toISOString(), redaction: 'full', arguments: { path: `/tmp/${index}` } });
  const prepared = Array.from({ length: count }, (_, index) => event(index));
  const started = process.hrtime.bigint();
  for (const item of prepared) governor.batcher.enqueue(item);
  const enqueueUs = Number(process.hrtime.bigint() - started) / 1e3 / count;
  const sendStarted = Date.now();
  await runtime.flush(120_000);
  const seconds = (Date.now() - sendStarted) / 1000;
  const delivered = runtime.stats().sent;
  log(`enqueue ${enqueueUs.toFixed(3)} µs/event; delivered ${delivered} events in ${seconds.toFixed(2)} s`);
  await runtime.shutdown(1000);
  return { enqueueUs, deliveredPerSecond: delivered / seconds, delivered };
}

async function measureEventsApi(server, log) {
  const headers = { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' };
  const base = Date.parse('2026-01-01T00:00:00Z');
  const started = Date.now();
  for (let offset = 0; offset < EVENTS; offset += 1000) {
    const events = Array.from({ length: 1000 }, (_, index) => {
      const n = offset + index;
      return { eventId: crypto.randomUUID(), eventType: n % 2 ? 'TOOL_CALL_POST' : 'TOOL_CALL_PRE', sourceType: 'SDK', agentId: `agent-${n % 10}`, userId: 'system', sessionId: `session-${n % 20}`, toolName: 'read_file', callId: `c${n >> 1}`, timestamp: new Date(base + n * 10).toISOString(), redaction: 'full', arguments: { path: `/data/${n}` } };
    });
    const response = await fetch(`${server.url}/v1/events/batch`, { method: 'POST', headers, body: JSON.stringify({ events }) });
    if (response.status !== 202) throw new Error(`ingest: ${response.status} ${await response.text()}`);
  }
  const ingestPerSecond = EVENTS / ((Date.now() - started) / 1000);
  const pageTimes = [];
  let pages = 0;
  for (const filter of ['', 'sessionId=session-3&', 'agentId=agent-7&']) {
    let cursor = null;
    do {
      const t0 = process.hrtime.bigint();
      const response = await fetch(`${server.url}/api/v1/events?${filter}limit=100${cursor ? `&cursor=${cursor}` : ''}`, { headers });
      const body = await response.json();
      pageTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor && pages < 1500);
  }
  const page = stats(pageTimes);
  log(`ingest ${Math.round(ingestPerSecond)} events/s; ${pages} pages, p50 ${page.p50.toFixed(2)} ms, p99 ${page.p99.toFixed(2)} ms`);
  return { ingestPerSecond, page, pages };
}

export default async function run({ log }) {
  const sdk = await import('../packages/sdk/dist/index.js');
  const server = await startServerProcess();
  try {
    const calls = await measureCalls(sdk, server, log);
    const queue = await measureQueue(sdk, server, log);
    const eventsApi = await measureEventsApi(server, log);
    const metrics = {
      bare_call_p50_ms: round(calls.bareStats.p50, 5),
      observe_call_p50_ms: round(calls.observeStats.p50),
      observe_call_p99_ms: round(calls.observeStats.p99),
      observe_overhead_p50_ms: round(calls.observeStats.p50 - calls.bareStats.p50),
      plain_enforce_fetch_p50_ms: round(calls.rawStats.p50),
      sdk_own_overhead_p50_ms: round(calls.observeStats.p50 - calls.rawStats.p50),
      block_allow_round_trip_p50_ms: round(calls.allowStats.p50),
      block_allow_round_trip_p99_ms: round(calls.allowStats.p99),
      block_refusal_round_trip_p50_ms: round(calls.blockStats.p50),
      event_enqueue_us: round(queue.enqueueUs),
      events_delivered_per_s: Math.round(queue.deliveredPerSecond),
      events_ingest_per_s: Math.round(eventsApi.ingestPerSecond),
      events_page_p50_ms: round(eventsApi.page.p50),
      events_page_p99_ms: round(eventsApi.page.p99),
      events_pages_read: eventsApi.pages,
    };
    // Absolute round trips depend on how busy this shared 2-core machine is, so the pass criteria are the SDK's own
    // cost (instrumented call minus the same request made with plain fetch, measured interleaved) and the event path.
    const targets = { sdk_own_overhead_p50_ms: '≤ 0.5', event_enqueue_us: '≤ 5', events_delivered: '50000 of 50000', events_page_p50_ms: '≤ 25' };
    const pass = metrics.sdk_own_overhead_p50_ms <= 0.5 && metrics.event_enqueue_us <= 5 && queue.delivered === 50_000 && metrics.events_page_p50_ms <= 25;
    return { name: 'sdk', metrics, targets, pass };
  } finally {
    server.child.kill();
  }
}

if (process.argv.includes('--serve')) await serveTollgate();
