import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flush } from '@tollgate/sdk';
import { setUpExample, type ExampleEnvironment } from '../support/example-env.js';
import { answer, calls, streamAnswer } from './assistant.js';

let env: ExampleEnvironment;
beforeAll(async () => {
  env = await setUpExample('tenant-a', []);
});
afterAll(async () => {
  await flush(5000);
  await env?.close();
});

describe('Vercel AI SDK example (real ai + @ai-sdk/openai against the fake model)', () => {
  it('generateText: an allowed tool runs, a refused one never runs and is reported as a tool error', async () => {
    calls.length = 0;
    env.model.setScript([
      { toolCalls: [{ name: 'weather', arguments: { city: 'Paris' } }, { name: 'delete_record', arguments: { id: 'r1' } }] },
      { text: 'It is sunny in Paris.' },
    ]);
    const result = await answer('Weather in Paris, and delete r1');
    expect(result.text).toBe('It is sunny in Paris.');
    expect(calls).toEqual(['weather Paris']);
    const parts = result.steps[0]!.content;
    expect(parts.find((part) => part.type === 'tool-result')).toMatchObject({ toolName: 'weather', output: 'Sunny in Paris' });
    const refused = parts.find((part) => part.type === 'tool-error') as { toolName: string; error: { code?: string } } | undefined;
    expect(refused?.toolName).toBe('delete_record');
    expect(refused?.error.code).toBe('POLICY_VIOLATION');
  });

  it('streamText with a streaming (async generator) tool: governed before the first chunk, POST after the last', async () => {
    env.model.setScript([{ toolCalls: [{ name: 'countdown', arguments: { from: 2 } }] }, { text: 'Lift-off.' }]);
    const { text, steps } = await streamAnswer('Count down from 2');
    expect(text).toBe('Lift-off.');
    expect(steps[0]!.content.find((part) => part.type === 'tool-result')).toMatchObject({ toolName: 'countdown', output: 0 });
    await flush(5000);
    const events = await env.server.events({ agentId: 'ai-sdk-assistant' }, env.tenant);
    const countdown = events.filter((event) => event.toolName === 'countdown');
    expect(countdown.map((event) => event.eventType).sort()).toEqual(['TOOL_CALL_POST', 'TOOL_CALL_PRE']);
    expect(countdown.find((event) => event.eventType === 'TOOL_CALL_POST')).toMatchObject({ outcome: 'success', result: [2, 1, 0] });
  });
});
