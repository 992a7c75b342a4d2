import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flush } from '@tollgate/sdk';
import { setUpExample, type ExampleEnvironment } from '../support/example-env.js';
import { ask, calls } from './research-agent.js';

let env: ExampleEnvironment;
beforeAll(async () => {
  env = await setUpExample('tenant-a', []);
});
afterAll(async () => {
  await flush(5000);
  await env?.close();
});

describe('LangChain 1.x createAgent example (real langchain + @langchain/openai against the fake model)', () => {
  it('runs an allowed call, and a refused call never runs: the model is told it was refused', async () => {
    env.model.setScript([
      { toolCalls: [{ name: 'read_file', arguments: { path: '/docs/retention.md' } }] },
      { toolCalls: [{ name: 'delete_record', arguments: { id: 'rec-1' } }] },
      { text: 'Read it; deleting was refused.' },
    ]);
    const { answer, toolMessages } = await ask('Read the retention doc, then delete rec-1.');
    expect(answer).toBe('Read it; deleting was refused.');
    expect(calls).toEqual(['read_file /docs/retention.md']);
    expect(toolMessages[0]).toBe('Contents of /docs/retention.md');
    expect(toolMessages[1]).toContain('records are never deleted by an agent');
    await flush(5000);
    const events = await env.server.events({ agentId: 'langchain-research-agent' }, env.tenant);
    expect(events.filter((event) => event.eventType === 'TOOL_CALL_POST').map((event) => `${event.toolName} ${event.outcome}`).sort()).toEqual(['delete_record blocked', 'read_file success']);
  });
});
