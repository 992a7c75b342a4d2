import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

// With content safety on (STRICT/STANDARD), an output the scanner cannot take (over TOLLGATE_SAFETY_MAX_CHARS) is
// blocked, not passed on unchecked, and the execution is finished and recorded like any other blocked run.
describe('an execution output too large to scan', () => {
  let t: TestServer;
  let key: string;
  let auditKey: string;
  beforeAll(async () => {
    t = await startTestServer({ config: { executionsPerHour: 0, safetyMaxChars: 1_000 } });
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token;
    auditKey = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['audit:read'] })).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  async function run(template: string, code: string) {
    const agent = await t.request('POST', '/api/v1/sdk/agents', {
      key, body: { name: `big-${template}-${Math.random().toString(36).slice(2, 8)}`, entry_code: code, config: { sandbox_template: template, permissions: ['data:read'] } },
    });
    expect(agent.status).toBe(201);
    const id = agent.body.agent.id as number;
    return { id, response: await t.request('POST', `/api/v1/sdk/agents/${id}/execute`, { key, body: { input: { task: 'report' } } }) };
  }

  it('blocks it with a reason, finishes the row and writes the ledger record', async () => {
    const { id, response } = await run('STANDARD', `return 'quarterly figures are fine. '.repeat(200);`);
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('blocked');
    expect(response.body.output).toBeNull();
    expect(JSON.stringify(response.body.error)).toContain('not scanned');
    const executionId = response.body.executionId ?? response.body.execution_id ?? response.body.id;
    const detail = await t.request('GET', `/api/v1/sdk/agents/${id}/executions/${executionId}`, { key });
    expect(detail.status).toBe(200);
    expect(JSON.stringify(detail.body)).not.toContain('"running"');
    const records = await t.request('GET', '/api/v1/audit/records?limit=1000', { key: auditKey });
    const recorded = (records.body.events as Array<{ type: string; agentId?: string | null; agent_id?: string | null }>)
      .filter((e) => e.type === 'sandbox.execution' && String(e.agentId ?? e.agent_id) === String(id));
    expect(recorded).toHaveLength(1);
    expect(JSON.stringify(recorded[0])).toContain('blocked');
  });

  it('passes the same output through under DEV, where content safety is off', async () => {
    const { response } = await run('DEV', `return 'quarterly figures are fine. '.repeat(200);`);
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('completed');
    expect(String(response.body.output)).toContain('quarterly figures');
  });
});
