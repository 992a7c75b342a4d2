import { afterAll, describe, expect, it } from 'vitest';
import { PolicyViolationError, flush } from '@tollgate/sdk';
import { setUpExample, type ExampleEnvironment } from '../support/example-env.js';

let env: ExampleEnvironment | undefined;
afterAll(async () => {
  await flush(5000);
  await env?.close();
});

describe('seed legacy ThothClient example', () => {
  it('instrument() then wrap() govern each call once; out-of-scope calls are refused', async () => {
    env = await setUpExample('your-tenant-id', []);
    const { calls } = await import('../plain-tools/agent.js');
    const { searched, refused } = await import('./seed-example.js');
    expect(searched).toBe('Results for quarterly numbers');
    expect(refused).toBeInstanceOf(PolicyViolationError);
    expect(refused).toMatchObject({ code: 'POLICY_VIOLATION', toolName: 'send_email' });
    expect(calls).toEqual(['web_search quarterly numbers']);
    await flush(5000);
    const events = await env.server.events({ agentId: 'document-summarizer' }, env.tenant);
    // One PRE and one POST per call although the agent was instrumented twice.
    expect(events).toHaveLength(4);
    expect(events.every((event) => event.agentId === 'document-summarizer')).toBe(true);
  });
});
