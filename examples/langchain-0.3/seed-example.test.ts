import { afterEach, describe, expect, it, vi } from 'vitest';
import { PolicyViolationError, flush } from '@tollgate/sdk';
import { setUpExample, type ExampleEnvironment } from '../support/example-env.js';

let env: ExampleEnvironment | undefined;
afterEach(async () => {
  await flush(5000);
  await env?.close();
  env = undefined;
});

function toolMessages(environment: ExampleEnvironment): string[] {
  return environment.model.requests.flatMap((request) =>
    ((request.body.messages ?? []) as { role: string; content: unknown }[]).filter((message) => message.role === 'tool').map((message) => String(message.content)),
  );
}

describe('seed LangChain example on langchain 0.3 (AgentExecutor from langchain/agents)', () => {
  it('runs an allowed tool call and finishes', async () => {
    env = await setUpExample('acme-corp', [{ toolCalls: [{ name: 'web_search', arguments: { input: 'AAPL SEC filings' } }] }, { text: 'AAPL filed a 10-Q.' }]);
    vi.resetModules();
    const { result } = await import('./seed-example.js');
    expect(result.output).toBe('AAPL filed a 10-Q.');
    expect(toolMessages(env)).toEqual(['Results for: AAPL SEC filings']);
    await flush(5000);
    const events = await env.server.events({ agentId: 'research-agent' }, env.tenant);
    expect(events.map((event) => `${event.eventType} ${event.toolName}`).sort()).toEqual(['TOOL_CALL_POST web_search', 'TOOL_CALL_PRE web_search']);
  });

  it('throws the policy violation before a blocked tool runs', async () => {
    env = await setUpExample('acme-corp', [{ toolCalls: [{ name: 'read_file', arguments: { input: '/etc/passwd' } }] }, { text: 'unreachable' }]);
    vi.resetModules();
    const failure = await import('./seed-example.js').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PolicyViolationError);
    expect(failure).toMatchObject({ code: 'POLICY_VIOLATION', toolName: 'read_file', reason: 'system files are off limits' });
    expect(env.model.requests).toHaveLength(1);
    expect(toolMessages(env)).toEqual([]);
  });
});
