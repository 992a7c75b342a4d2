import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../server/src/store/repositories/events.js';
import { browserAvailable, openBrowser, poll, screenshot, type BrowserSession } from './helpers/browser.js';
import { startDashboardServer, type DashboardServer } from './helpers/server.js';

const available = browserAvailable();

const CALLS = 50_000; // two events per call: 100,000 recorded events
const SESSIONS = 500;
const AGENTS = 20;
const TOOLS = ['web_search', 'read_file', 'send_email', 'delete_file'];

/** 100,000 events (PRE + POST per call), newest call last, spread over agents and sessions. */
function seedEvents(tenantId: string, now: number): NewEvent[] {
  const events: NewEvent[] = [];
  for (let call = 0; call < CALLS; call += 1) {
    const session = call % SESSIONS;
    const agentId = `agent-${String(session % AGENTS).padStart(2, '0')}`;
    const sessionId = `session-${String(session).padStart(3, '0')}`;
    const toolName = TOOLS[call % TOOLS.length]!;
    const ts = now - (CALLS - call) * 1_000;
    const blocked = toolName === 'delete_file';
    const base = { tenantId, sourceType: 'SDK', agentId, userId: 'load@example.com', sessionId, toolName, callId: `call-${call}`, decisionId: null, receivedAt: ts, redaction: 'full', error: null };
    events.push({ ...base, eventId: `pre-${call}`, eventType: 'TOOL_CALL_PRE', ts, durationMs: null, outcome: null, arguments: { n: call }, result: undefined });
    events.push({ ...base, eventId: `post-${call}`, eventType: 'TOOL_CALL_POST', ts: ts + 5, durationMs: 5, outcome: blocked ? 'blocked' : 'success', arguments: undefined, result: blocked ? undefined : 'ok' });
  }
  return events;
}

/**
 * The store's bulk path: one prepared statement in one transaction on SQLite (~10× faster than the
 * repository's multi-row INSERTs); the repository itself elsewhere.
 */
async function bulkInsert(server: DashboardServer, events: NewEvent[]): Promise<number> {
  const native = server.t.store.native;
  if (native.dialect !== 'sqlite') return server.t.store.events.insertMany(server.t.tenantA.id, events);
  const insert = native.database.prepare(
    `INSERT INTO events (tenant_id, event_id, event_type, source_type, agent_id, user_id, session_id, tool_name, call_id,
       decision_id, ts, received_at, duration_ms, outcome, redaction, arguments, result, error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));
  native.database.transaction(() => {
    for (const event of events) {
      insert.run(event.tenantId, event.eventId, event.eventType, event.sourceType, event.agentId, event.userId, event.sessionId, event.toolName,
        event.callId, event.decisionId, event.ts, event.receivedAt, event.durationMs, event.outcome, event.redaction, json(event.arguments), json(event.result), event.error);
    }
    // The per-session summaries the repository keeps as it stores events (migration 0015), rebuilt as its backfill does.
    const tenantId = server.t.tenantA.id;
    native.database.prepare('DELETE FROM event_sessions WHERE tenant_id = ?').run(tenantId);
    native.database.prepare(
      `INSERT INTO event_sessions (tenant_id, session_id, agent_id, user_id, calls, blocked, first_ts, last_ts)
       SELECT tenant_id, session_id, max(agent_id), max(user_id), sum(CASE WHEN event_type = 'TOOL_CALL_POST' THEN 1 ELSE 0 END),
              sum(CASE WHEN outcome = 'blocked' THEN 1 ELSE 0 END), min(ts), max(ts)
       FROM events WHERE tenant_id = ? GROUP BY tenant_id, session_id`,
    ).run(tenantId);
  })();
  return events.length;
}

/** A day of decisions (and violations for the BLOCKs) so the Overview charts have a shape. */
function seedDecisions(server: DashboardServer, now: number): void {
  const native = server.t.store.native;
  if (native.dialect !== 'sqlite') return;
  const decision = native.database.prepare(
    `INSERT INTO decisions (id, tenant_id, ts, agent_id, user_id, session_id, tool_name, call_id, requested_mode, mode, decision, verdict,
       reason, violation_id, matched_rules, shadow, errors, context)
     VALUES (?, ?, ?, ?, 'load@example.com', ?, ?, NULL, 'block', 'block', ?, ?, ?, ?, '[]', '[]', '[]', '{}')`,
  );
  const violation = native.database.prepare(
    `INSERT INTO violations (id, tenant_id, decision_id, ts, agent_id, user_id, session_id, tool_name, decision, reason, rule_ids)
     VALUES (?, ?, ?, ?, ?, 'load@example.com', ?, ?, 'BLOCK', ?, '["never-delete"]')`,
  );
  const tenantId = server.t.tenantA.id;
  native.database.transaction(() => {
    for (let index = 0; index < 4_000; index += 1) {
      const hour = (index * 7) % 24;
      const busy = 0.5 + 0.5 * Math.sin(((hour - 6) / 24) * 2 * Math.PI);
      if ((index * 13) % 100 > busy * 100) continue;
      const ts = now - (24 - hour) * 3_600_000 + ((index * 37) % 3_600_000);
      const verdict = index % 17 === 0 ? 'BLOCK' : index % 11 === 0 ? 'STEP_UP' : 'ALLOW';
      const agentId = `agent-${String(index % AGENTS).padStart(2, '0')}`;
      const violationId = verdict === 'BLOCK' ? `vio-load-${index}` : null;
      decision.run(`dec-load-${index}`, tenantId, ts, agentId, `session-${index % SESSIONS}`, TOOLS[index % TOOLS.length], verdict, verdict, 'seeded', violationId);
      if (violationId) violation.run(violationId, tenantId, `dec-load-${index}`, ts, agentId, `session-${index % SESSIONS}`, 'delete_file', 'files are never deleted by an agent');
    }
  })();
}

async function firstCallText(page: Page): Promise<string> {
  return (await page.locator('.timeline-item').first().textContent()) ?? '';
}

describe.skipIf(!available)('Sessions page with 100,000 recorded events', { timeout: 120_000 }, () => {
  let server: DashboardServer;
  let browser: BrowserSession;

  beforeAll(async () => {
    server = await startDashboardServer();
    const seedStarted = performance.now();
    const inserted = await bulkInsert(server, seedEvents(server.t.tenantA.id, Date.now()));
    expect(inserted).toBe(CALLS * 2);
    console.log(`dashboard: seeded 100,000 events in ${Math.round(performance.now() - seedStarted)} ms`);
    seedDecisions(server, Date.now());
    browser = await openBrowser();
  }, 180_000); // seeding, and maybe (re)building the dashboard when run on its own
  afterAll(async () => {
    await browser?.close();
    await server?.t.close();
  });

  it('pages through every call by cursor on the server, without gaps or repeats', async () => {
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    const started = performance.now();
    do {
      const query: string = new URLSearchParams({ agentId: 'agent-07', limit: '200', ...(cursor ? { cursor } : {}) }).toString();
      const page = await server.t.request('GET', `/api/v1/dashboard/calls?${query}`, { key: server.adminKey });
      expect(page.status).toBe(200);
      for (const call of page.body.calls as { callId: string; agentId: string }[]) {
        expect(call.agentId).toBe('agent-07');
        expect(seen.has(call.callId)).toBe(false);
        seen.add(call.callId);
      }
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor);
    console.log(`dashboard: ${pages} pages of agent-07 calls over 100,000 events in ${Math.round(performance.now() - started)} ms`);
    expect(seen.size).toBe(CALLS / AGENTS);
    const sessions = await server.t.request('GET', '/api/v1/dashboard/sessions?limit=50', { key: server.adminKey });
    expect(sessions.body.sessions).toHaveLength(50);
    expect(sessions.body.sessions[0]).toMatchObject({ sessionId: 'session-499', calls: CALLS / SESSIONS });
    const bad = await server.t.request('GET', '/api/v1/dashboard/calls?cursor=not-a-cursor', { key: server.adminKey });
    expect(bad.status).toBe(400);
  });

  it('loads the newest calls, paginates and filters in the browser', async () => {
    const { page } = browser;
    await page.goto(`${server.t.url}/`);
    await page.getByLabel('API key').fill(server.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await poll(() => page.locator('.stats dd').first().textContent()).not.toBe('0');
    await screenshot(page, 'overview');

    const started = performance.now();
    await page.goto(`${server.t.url}/sessions`);
    await poll(() => page.locator('.timeline-item').count()).toBe(50);
    console.log(`dashboard: Sessions page with 100,000 events rendered in ${Math.round(performance.now() - started)} ms`);
    expect(await firstCallText(page)).toContain('delete_file'); // call 49,999 is the newest
    expect(await page.locator('.session-list li').count()).toBe(50);

    // The page label changes as soon as a pager button is clicked, the rows when the page has loaded: wait for the rows.
    const firstPageFirst = await firstCallText(page);
    const pager = page.getByRole('navigation', { name: 'Tool call pages' });
    await pager.getByRole('button', { name: 'Next →' }).click();
    await poll(() => page.getByText('Page 2 ·').count()).toBe(1);
    await poll(() => firstCallText(page)).not.toBe(firstPageFirst);
    const secondPageFirst = await firstCallText(page);
    await pager.getByRole('button', { name: '← Previous' }).click();
    await poll(() => page.getByText('Page 1 ·').count()).toBe(1);
    await poll(() => firstCallText(page)).toBe(firstPageFirst);
    expect(await firstCallText(page)).not.toBe(secondPageFirst);

    await page.getByRole('search', { name: 'Filter tool calls' }).getByLabel('Agent').fill('agent-03');
    await page.getByRole('search', { name: 'Filter tool calls' }).getByLabel('Outcome').selectOption('blocked');
    await page.getByRole('button', { name: 'Apply' }).click();
    await poll(() => page.url()).toContain('agentId=agent-03');
    await poll(async () => {
      const texts = await page.locator('.timeline-item').allTextContents();
      return texts.length > 0 && texts.every((text) => text.includes('delete_file') && text.includes('outcome: blocked') || text.startsWith('blocked'));
    }).toBe(true);
    await page.locator('.session-link').first().click();
    await poll(() => page.url()).toContain('sessionId=');
    await screenshot(page, 'sessions-100k');
  });
});
