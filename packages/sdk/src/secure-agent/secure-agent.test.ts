import { describe, expect, it } from 'vitest';
import { SDKError } from './sdk-error.js';
import { SecureAgent } from './secure-agent.js';

// Client-side behaviour that needs no server (the server round trips are in packages/sdk/test/secure-agent.e2e.test.ts).
describe('SecureAgent without a server', () => {
  it('reports an unreachable server as NETWORK_ERROR', async () => {
    const agent = new SecureAgent({ apiKey: 'tg_live_x_y', baseUrl: 'http://127.0.0.1:1' });
    await expect(agent.configure()).rejects.toMatchObject({ name: 'SDKError', code: 'NETWORK_ERROR' });
  });

  it('refuses run() input without a task, and stop() before the agent id is known', async () => {
    const agent = new SecureAgent({ apiKey: 'tg_live_x_y', baseUrl: 'http://127.0.0.1:1' });
    await expect(agent.run({} as never)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(agent.stop('why')).rejects.toMatchObject({ code: 'NOT_CONFIGURED' });
  });

  it('maps a non-envelope HTTP failure to HTTP_ERROR with the status', async () => {
    const fetch = (async () => new Response('<html>bad gateway</html>', { status: 502 })) as typeof globalThis.fetch;
    const agent = new SecureAgent({ apiKey: 'tg_live_x_y', baseUrl: 'http://proxy.invalid', fetch });
    const error = await agent.configure().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SDKError);
    expect(error).toMatchObject({ code: 'HTTP_ERROR', status: 502 });
  });

  it('uses the agentId it was given and builds the audit trail URL from the base URL', async () => {
    const calls: string[] = [];
    const fetch = (async (url: string | URL | Request) => {
      calls.push(String(url));
      return Response.json({ execution_id: 9, status: 'completed', output: 1, resource_usage: { wall_ms: 3 }, host_call_audit: [], violation_count: 0, was_terminated: false, error: null });
    }) as typeof globalThis.fetch;
    const agent = new SecureAgent({ apiKey: 'tg_live_x_y', baseUrl: 'http://tollgate.test/', agentId: 42, fetch });
    const result = await agent.run({ task: 't' });
    expect(calls).toEqual(['http://tollgate.test/api/v1/sdk/agents/42/execute']);
    expect(result).toMatchObject({ executionId: 9, durationMs: 3, costTfuel: 0, auditTrailUrl: 'http://tollgate.test/api/v1/sdk/agents/42/executions/9' });
  });
});
