// Dashboard read views over 100,000 recorded events (SQLite, in-process server, real HTTP on loopback):
// latency of the Sessions page's two queries: the newest 50 tool calls, a page 200 deep (keyset cursor),
// calls filtered by agent + outcome, and the sessions list (one page of the per-session summaries, migration 0015;
// it was a GROUP BY over every event). Events are stored through the repository, as the events API stores them. Targets: p95 of every
// call page <= 100 ms and of the sessions list <= 400 ms on this 2-core machine.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey, loadConfig, startTollgate } from '../packages/server/dist/index.js';

const CALLS = 50_000; // PRE + POST per call: 100,000 events
const SESSIONS = 500;
const AGENTS = 20;
const TOOLS = ['web_search', 'read_file', 'send_email', 'delete_file'];
const RUNS = 40;

/** Seeds through the events repository, as `POST /v1/events/batch` stores them (sessions' summaries included). */
async function seed(store, tenantId) {
  const now = Date.now();
  const event = (call, type) => {
    const session = call % SESSIONS;
    const tool = TOOLS[call % TOOLS.length];
    const ts = now - (CALLS - call) * 1000 + (type === 'TOOL_CALL_POST' ? 5 : 0);
    return {
      tenantId, eventId: `${type === 'TOOL_CALL_PRE' ? 'pre' : 'post'}-${call}`, eventType: type, sourceType: 'SDK', agentId: `agent-${session % AGENTS}`,
      userId: 'bench@example.com', sessionId: `session-${session}`, toolName: tool, callId: `call-${call}`, decisionId: null, ts, receivedAt: ts,
      durationMs: type === 'TOOL_CALL_POST' ? 5 : null, outcome: type === 'TOOL_CALL_POST' ? (tool === 'delete_file' ? 'blocked' : 'success') : null,
      redaction: 'full', arguments: type === 'TOOL_CALL_PRE' ? { n: call } : null, result: type === 'TOOL_CALL_POST' ? 'ok' : undefined, error: null,
    };
  };
  for (let start = 0; start < CALLS; start += 500) {
    const batch = [];
    for (let call = start; call < Math.min(CALLS, start + 500); call += 1) batch.push(event(call, 'TOOL_CALL_PRE'), event(call, 'TOOL_CALL_POST'));
    await store.events.insertMany(tenantId, batch);
  }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function timed(url, key, runs) {
  const samples = [];
  for (let index = 0; index < runs; index += 1) {
    const started = performance.now();
    const response = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
    if (response.status !== 200) throw new Error(`${url}: ${response.status} ${await response.text()}`);
    await response.json();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p95: percentile(samples, 95) };
}

async function deepCursor(base, key, pages) {
  let cursor = null;
  for (let index = 0; index < pages; index += 1) {
    const url = `${base}/api/v1/dashboard/calls?limit=50${cursor ? `&cursor=${cursor}` : ''}`;
    const body = await (await fetch(url, { headers: { authorization: `Bearer ${key}` } })).json();
    cursor = body.nextCursor;
  }
  return cursor;
}

export default async function run({ log }) {
  const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-bench-dashboard-'));
  const adminKey = generateApiKey().token;
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir, adminKey, logLevel: 'silent' });
  const running = await startTollgate({ config });
  try {
    const started = performance.now();
    await seed(running.store, 'default');
    log(`seeded ${CALLS * 2} events in ${Math.round(performance.now() - started)} ms`);
    const base = running.url;
    const cursor = await deepCursor(base, adminKey, 200);
    const metrics = {
      callsFirstPage: await timed(`${base}/api/v1/dashboard/calls?limit=50`, adminKey, RUNS),
      callsPage200: await timed(`${base}/api/v1/dashboard/calls?limit=50&cursor=${cursor}`, adminKey, RUNS),
      callsByAgentBlocked: await timed(`${base}/api/v1/dashboard/calls?limit=50&agentId=agent-7&outcome=blocked`, adminKey, RUNS),
      callsOfSession: await timed(`${base}/api/v1/dashboard/calls?limit=50&sessionId=session-42`, adminKey, RUNS),
      sessionsList: await timed(`${base}/api/v1/dashboard/sessions?limit=50`, adminKey, RUNS),
    };
    const sessions = await (await fetch(`${base}/api/v1/dashboard/sessions?limit=50`, { headers: { authorization: `Bearer ${adminKey}` } })).json();
    if (sessions.sessions.length !== 50 || sessions.sessions[0].calls !== CALLS / SESSIONS) throw new Error(`sessions list: ${JSON.stringify(sessions.sessions[0])}`);
    for (const [name, value] of Object.entries(metrics)) log(`${name}: p50 ${value.p50.toFixed(1)} ms, p95 ${value.p95.toFixed(1)} ms`);
    const targets = { callPageP95Ms: 100, sessionsListP95Ms: 400 };
    const callPages = [metrics.callsFirstPage, metrics.callsPage200, metrics.callsByAgentBlocked, metrics.callsOfSession];
    const pass = callPages.every((value) => value.p95 <= targets.callPageP95Ms) && metrics.sessionsList.p95 <= targets.sessionsListP95Ms;
    return { name: 'dashboard', metrics, targets, pass };
  } finally {
    await running.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
