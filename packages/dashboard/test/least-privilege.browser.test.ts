import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, openBrowser, poll, screenshot, type BrowserSession } from './helpers/browser.js';
import { startDashboardServer, type DashboardServer } from './helpers/server.js';

/** A person signed in with less than admin sees only what the key's scopes allow. */

const available = browserAvailable();

function navLabels(page: Page): Promise<string[]> {
  return page
    .getByRole('navigation', { name: 'Primary' })
    .getByRole('link')
    .evaluateAll((links) => links.map((link) => (link.firstChild?.textContent ?? '').trim()));
}

async function submitKey(page: Page, url: string, key: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe.skipIf(!available)('dashboard with a least-privilege key', { timeout: 120_000 }, () => {
  let server: DashboardServer;
  let browser: BrowserSession;
  let page: Page;
  let approverKey: string;
  let approverKeyId: string;

  beforeAll(async () => {
    server = await startDashboardServer();
    const approver = await server.t.services.keys.create({ tenantId: server.t.tenantA.id, scopes: ['approvals'], name: 'approver' });
    approverKey = approver.token;
    approverKeyId = approver.record.id;
    browser = await openBrowser();
    page = browser.page;
  }, 180_000); // may (re)build the dashboard first when run on its own
  afterAll(async () => {
    await browser?.close();
    await server?.t.close();
  });

  it('refuses a machine key (enforce / events:write only) with a clear message', async () => {
    await submitKey(page, server.t.url, server.agentKey);
    await poll(() => page.getByRole('alert').textContent()).toContain('machine key');
    expect((await browser.context.cookies()).some((cookie) => cookie.name === 'tollgate_session')).toBe(false);
  });

  it('signs an approvals-only key in to Approvals, with only Approvals in the menu', async () => {
    await submitKey(page, server.t.url, approverKey);
    // Sign-in lands on `/` (Overview needs audit:read): the app moves on to the first page the key may use.
    await page.getByRole('heading', { name: 'Approvals', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/approvals');
    expect(await navLabels(page)).toEqual(['Approvals']);
    await page.getByText('Nothing waiting for approval').waitFor();
    await screenshot(page, 'least-privilege-approvals');
  });

  it('approves a pending hold with the approvals-only session', async () => {
    await poll(() => page.getByRole('status').filter({ hasText: /Live|Connecting/ }).first().textContent()).toBe('Live');
    const held = await server.t.request('POST', '/v1/enforce', {
      key: server.agentKey,
      body: { agentId: 'mailer-agent', sessionId: 'least-privilege', toolName: 'send_email', arguments: { to: 'ops@partner.example' } },
    });
    expect(held.body.decision).toBe('STEP_UP');
    const holdToken = held.body.holdToken as string;
    const card = page.getByRole('article').filter({ hasText: 'ops@partner.example' });
    await card.waitFor({ timeout: 30_000 });
    await card.getByLabel(/Comment/).fill('approved by the on-call approver');
    await card.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('Nothing waiting for approval').waitFor();
    const hold = await server.t.services.holds.get(server.t.tenantA.id, holdToken);
    expect(hold.status).toBe('approved');
    expect(hold.approver).toContain(approverKeyId);
    expect(hold.comment).toBe('approved by the on-call approver');
  });

  it.each([
    ['/policies', 'Policies', 'policies'],
    ['/settings', 'Settings', 'admin'],
    ['/kill-switch', 'Kill switch', 'agents'],
    ['/audit', 'Audit', 'audit:read'],
  ])('opening %s directly shows which scope the page needs', async (path, title, scope) => {
    await page.goto(`${server.t.url}${path}`);
    await page.getByRole('heading', { name: title, level: 1 }).waitFor();
    const notice = page.getByRole('status').filter({ hasText: 'This page needs the' });
    await poll(() => notice.textContent()).toContain(`This page needs the ${scope} scope`);
    // No error state, no table, no actions of the page.
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await page.getByRole('table').count()).toBe(0);
    expect(await page.locator('main button').count()).toBe(0);
    expect(await navLabels(page)).toEqual(['Approvals']);
    if (path === '/policies') await screenshot(page, 'least-privilege-needs-scope');
  });

  it('shows the audit pages, and no admin or policy pages, to an approvals + audit:read key', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    const { token } = await server.t.services.keys.create({ tenantId: server.t.tenantA.id, scopes: ['approvals', 'audit:read', 'enforce'] });
    await submitKey(page, server.t.url, token);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    expect(await navLabels(page)).toEqual(['Overview', 'Sessions', 'Violations', 'Approvals', 'Audit']);
  });
});
