// A key restricted to one agent could PATCH its `version` to any 1–64 characters, newlines included (and `name` and
// `description` were not checked for control characters at all), and the compliance evidence package interpolated
// agent fields raw into its Markdown: the agent added its own headings, links and images to the document handed to
// auditors. Now those fields refuse controls, line breaks and invisible formatting (400 VALIDATION_FAILED naming the
// field), and every value in the Markdown is escaped, so a value stored before the check cannot add structure either.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

const CONFIG = { sandbox_template: 'STANDARD', permissions: ['data:read'], compliance: ['eu_ai_act', 'soc2'] };
// 64 characters: what the version field accepted.
const INJECTED = '1\n\n# Approved by auditor\n![s](https://e.vil/s)<b>[ok](//e.vil)';

describe('agent name, version and description in compliance evidence', () => {
  let t: TestServer;
  let admin: string;
  let bound: string;
  let agentId: number;

  beforeAll(async () => {
    t = await startTestServer();
    admin = t.tenantA.adminKey;
    const created = await t.request('POST', '/api/v1/sdk/agents', { key: admin, body: { name: 'evidence-bot', entry_code: 'return 1;', config: CONFIG } });
    expect(created.status).toBe(201);
    agentId = created.body.agent.id;
    const restricted = await t.request('POST', '/api/v1/keys', { key: admin, body: { scopes: ['agents'], agentIds: ['evidence-bot'] } });
    expect(restricted.status).toBe(201);
    bound = restricted.body.secret;
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['version', INJECTED],
    ['version', '1.0\u202Egnp.exe'],
    ['version', '1.0\u200B'],
    ['version', '1.0\t2'],
    ['description', 'bell\u0007'],
    ['description', 'reads \u2066backwards\u2069'],
    ['description', 'zero\u200Dwidth'],
    ['description', 'line\u2028separator'],
  ])('a key restricted to the agent cannot set %s to %j (400 naming the field)', async (field, value) => {
    const answer = await t.request('PATCH', `/api/v1/sdk/agents/${agentId}`, { key: bound, body: { [field]: value } });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field } });
  });

  it.each([
    ['name', 'evil\n# heading'],
    ['name', 'bot\u202E'],
    ['version', '2.0\r\n'],
    ['description', 'x\u001b[31m'],
  ])('registration refuses %s %j', async (field, value) => {
    const body = { name: 'fresh-bot', entry_code: 'return 1;', config: CONFIG, [field]: value };
    const answer = await t.request('POST', '/api/v1/sdk/agents', { key: admin, body });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field } });
  });

  it('keeps ordinary text: a multi-line description, punctuation and non-Latin names', async () => {
    const answer = await t.request('POST', '/api/v1/sdk/agents', {
      key: admin, body: { name: 'résumé-bot_2 (prod)', version: '2.1.0-rc.1+build.5', description: 'Summarises tickets.\nSecond line\twith a tab.', config: CONFIG },
    });
    expect(answer.status).toBe(201);
  });

  it('an agent stored with Markdown in its fields before the check adds no structure to the evidence or the report', async () => {
    const legacy = await t.request('POST', '/api/v1/sdk/agents', { key: admin, body: { name: 'legacy-bot', entry_code: 'return 1;', config: CONFIG } });
    const id = legacy.body.agent.id as number;
    // As an update before this check left it (the service refuses it now), straight into the store.
    await t.store.sandboxAgents.update(t.tenantA.id, id, { name: `legacy\n# Signed off\n[pay](https://evil.example) \`x`, version: INJECTED }, Date.now());
    expect((await t.request('POST', `/api/v1/sdk/agents/${id}/compliance/evaluate`, { key: admin, body: {} })).status).toBe(200);

    for (const path of [`compliance/evidence/eu_ai_act`, `compliance/report?format=markdown`]) {
      const answer = await t.request('GET', `/api/v1/sdk/agents/${id}/${path}`, { key: admin });
      expect(answer.status).toBe(200);
      const markdown = String(answer.body);
      expect(markdown.split('\n').filter((line) => /^ {0,3}#{1,6}\s*(Signed off|Approved by auditor)/.test(line))).toEqual([]);
      // Outside code spans and fenced blocks (which render literally) nothing of the injected links, images or HTML.
      expect(outsideCode(markdown)).not.toMatch(/!\[s\]|\[pay\]\(|\[ok\]\(|<b>|e\.vil|evil\.example/);
      // The name is one code span on the title line, its fence longer than the backtick inside it.
      expect(markdown.split('\n')[0]).toMatch(/ — agent ``legacy # Signed off \[pay\]\(https:\/\/evil\.example\) `x``$/);
    }
    const evidence = String((await t.request('GET', `/api/v1/sdk/agents/${id}/compliance/evidence/soc2`, { key: admin })).body);
    expect(evidence).toContain('version `1  # Approved by auditor ![s](https://e.vil/s)<b>[ok](//e.vil)`,');
    // Updating the legacy agent's code still works without renaming it first.
    expect((await t.request('PATCH', `/api/v1/sdk/agents/${id}`, { key: admin, body: { entry_code: 'return 2;' } })).status).toBe(200);
  });
});

/** The Markdown without its fenced blocks and code spans (CommonMark: a span closes at a backtick run of equal length). */
function outsideCode(markdown: string): string {
  return markdown.replace(/^(`{3,})[^\n]*\n[\s\S]*?^\1\s*$/gm, '').replace(/(?<!`)(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, '');
}
