import { AgentExecutor, createOpenAIToolsAgent } from '@langchain/classic/agents';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import { DynamicStructuredTool, DynamicTool, StructuredTool, tool } from '@langchain/core/tools';
import { ChatOpenAI } from '@langchain/openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PolicyViolationError, flush } from '../src/index.js';
import { instrument, instrumentLangChainTools } from '../src/adapters/langchain.js';
import type { TollgateConfig } from '../src/index.js';
import { startFakeModelServer, type FakeModelServer } from '../../../test-utils/fake-model-server.js';
import { eventually, startGovernedServer, type GovernedServer } from './support/governed-server.js';

let server: GovernedServer;
let model: FakeModelServer;
beforeAll(async () => {
  server = await startGovernedServer();
  model = await startFakeModelServer();
});
afterAll(async () => {
  await flush(5000);
  await model?.close();
  await server?.close();
});

function config(overrides: Partial<TollgateConfig> = {}): TollgateConfig {
  return { agentId: 'lc-agent', apiUrl: server.url, apiKey: server.tenant.key, sessionId: `s-${crypto.randomUUID()}`, logLevel: 'SILENT', ...overrides };
}

class DeleteRecordTool extends StructuredTool {
  name = 'delete_record';
  description = 'Delete a record';
  schema = z.object({ id: z.string() });
  deleted: string[] = [];
  async _call(input: { id: string }): Promise<string> {
    this.deleted.push(input.id);
    return `deleted ${input.id}`;
  }
}

describe('LangChain.js 1.x tool shapes', () => {
  it('governs tool(), DynamicTool, DynamicStructuredTool and StructuredTool subclasses through .invoke', async () => {
    const ran: string[] = [];
    const structured = tool(async ({ path }: { path: string }) => { ran.push(`structured ${path}`); return 'ok'; }, { name: 'read_file', description: 'read', schema: z.object({ path: z.string() }) });
    const dynamic = new DynamicTool({ name: 'read_file', description: 'read', func: async (path: string) => { ran.push(`dynamic ${path}`); return 'ok'; } });
    const dynamicStructured = new DynamicStructuredTool({ name: 'web_search', description: 'search', schema: z.object({ q: z.string() }), func: async ({ q }: { q: string }) => { ran.push(`search ${q}`); return 'ok'; } });
    const subclass = new DeleteRecordTool();
    instrumentLangChainTools([structured, dynamic, dynamicStructured, subclass], config({ approvedScope: ['read_file', 'web_search', 'delete_record'] }));
    await expect(structured.invoke({ path: '/tmp/a' })).resolves.toBe('ok');
    await expect(dynamic.invoke('/etc/passwd')).rejects.toMatchObject({ code: 'POLICY_VIOLATION', reason: 'system files are off limits' });
    await expect(dynamicStructured.invoke({ q: 'news' })).resolves.toBe('ok');
    await expect(subclass.invoke({ id: '1' })).rejects.toBeInstanceOf(PolicyViolationError);
    expect(ran).toEqual(['structured /tmp/a', 'search news']);
    expect(subclass.deleted).toEqual([]);
  });

  it('enforces once per call when a tool is instrumented twice', async () => {
    const first = config({ approvedScope: ['web_search'] });
    const second = config({ approvedScope: ['web_search'] });
    const search = new DynamicTool({ name: 'web_search', description: 'search', func: async () => 'ok' });
    instrument(search, first);
    instrument({ tools: [search] }, second);
    await search.invoke('x');
    await flush(5000);
    const events = await eventually(() => server.events({ sessionId: second.sessionId! }), (list) => list.length >= 2);
    expect(events).toHaveLength(2);
    expect(await server.events({ sessionId: first.sessionId! })).toEqual([]);
  });

  it('AgentExecutor from @langchain/classic: an allowed call runs; a refused one stops the executor with the violation', async () => {
    process.env.OPENAI_API_KEY = 'sk-test';
    const build = () => {
      const search = new DynamicTool({ name: 'web_search', description: 'search', func: async (q: string) => `Results for ${q}` });
      const remove = new DeleteRecordTool();
      const prompt = ChatPromptTemplate.fromMessages([['system', 'Use tools.'], ['human', '{input}'], ['placeholder', '{agent_scratchpad}']]);
      const llm = new ChatOpenAI({ model: 'gpt-4o', configuration: { baseURL: `${model.url}/v1` } });
      return { search, remove, make: async () => new AgentExecutor({ agent: await createOpenAIToolsAgent({ llm, tools: [search, remove], prompt }), tools: [search, remove] }) };
    };
    const allowed = build();
    const executor = instrument(await allowed.make(), config({ approvedScope: ['web_search', 'delete_record'] }));
    model.setScript([{ toolCalls: [{ name: 'web_search', arguments: { input: 'AAPL' } }] }, { text: 'Found it.' }]);
    await expect(executor.invoke({ input: 'Search AAPL' })).resolves.toMatchObject({ output: 'Found it.' });

    const refused = build();
    const governed = instrument(await refused.make(), config({ approvedScope: ['web_search', 'delete_record'] }));
    model.setScript([{ toolCalls: [{ name: 'delete_record', arguments: { id: '42' } }] }, { text: 'unreachable' }]);
    await expect(governed.invoke({ input: 'Delete 42' })).rejects.toMatchObject({ code: 'POLICY_VIOLATION', toolName: 'delete_record' });
    expect(refused.remove.deleted).toEqual([]);
  });
});
