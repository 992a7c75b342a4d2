// Dashboard read views over 100,000 recorded events (SQLite, in-process server, real HTTP on loopback):
// latency of the Sessions page's two queries: the newest 50 tool calls, a page 200 deep (keyset cursor),
// calls filtered by agent + outcome, and the sessions list (GROUP BY over the events). Targets: p95 of every
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

function seed(database, tenantId) {
  const insert = database.prepare(
    `INSERT INTO events (tenant_id, event_id, event_type, source_type, agent_id, user_id, session_id, tool_name, call_id,
       decision_id, ts, received_at, duration_ms, outcome, redaction, arguments, result, error)
     VALUES (?, ?, ?, 'SDK', ?, 'bench@example.com', ?, ?, ?, NULL, ?, ?, ?, ?, 'full', ?, ?, NULL)`,
  );
  const now = Date.now();
  database.transaction(() => {
    for (let call = 0; call < CALLS; call += 1) {
      const session = call % SESSIONS;
      const agent = `agent-${session % AGENTS}`;
      const tool = TOOLS[call % TOOLS.length];
      const ts = now - (CALLS - call) * 1000;
      insert.run(tenantId, `pre-${call}`, 'TOOL_CALL_PRE', agent, `session-${session}`, tool, `call-${call}`, ts, ts, null, null, JSON.stringify({ n: call }), null);
      insert.run(tenantId, `post-${call}`, 'TOOL_CALL_POST', agent, `session-${session}`, tool, `call-${call}`, ts + 5, ts + 5, 5, tool === 'delete_file' ? 'blocked' : 'success', null, '"ok"');
    }
  })();
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
    seed(running.store.native.database, 'default');
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
