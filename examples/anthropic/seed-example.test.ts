import { afterEach, describe, expect, it, vi } from 'vitest';
import { PolicyViolationError, flush } from '@tollgate/sdk';
import { setUpExample, type ExampleEnvironment } from '../support/example-env.js';

let env: ExampleEnvironment | undefined;
afterEach(async () => {
  await flush(5000);
  await env?.close();
  env = undefined;
});

const SCRIPT = [
  { toolCalls: [{ name: 'search_docs', arguments: { query: 'data retention' } }] },
  { toolCalls: [{ name: 'delete_record', arguments: { id: 'rec-9' } }] },
  { text: 'Our retention period is 7 years.' },
];

async function run() {
  vi.resetModules();
  const tools = await import('./tools.js');
  const outcome = import('./seed-example.js').then(() => 'finished', (error: unknown) => error);
  return { tools, outcome };
}

describe('seed Anthropic example (real @anthropic-ai/sdk against the fake model, real Tollgate)', () => {
  it('runs the allowed tool at once and holds the out-of-scope one until a person approves', async () => {
    env = await setUpExample('acme-corp', SCRIPT);
    const { tools, outcome } = await run();
    await env.server.decideHold('delete_record', 'approve', env.tenant);
    expect(await outcome).toBe('finished');
    expect(tools.calls).toEqual(['search_docs data retention', 'delete_record rec-9']);
    const lastRequest = env.model.requests.at(-1)!.body.messages as { content: unknown }[];
    expect(JSON.stringify(lastRequest)).toContain('deleted rec-9');
  });

  it('throws before the tool runs when the hold is denied', async () => {
    env = await setUpExample('acme-corp', SCRIPT);
    const { tools, outcome } = await run();
    await env.server.decideHold('delete_record', 'deny', env.tenant);
    const failure = await outcome;
    expect(failure).toBeInstanceOf(PolicyViolationError);
    expect(failure).toMatchObject({ code: 'HOLD_DENIED', toolName: 'delete_record' });
    expect(tools.calls).toEqual(['search_docs data retention']);
  });
});
