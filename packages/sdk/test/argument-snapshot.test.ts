/**
 * Time-of-check/time-of-use: the SDK used to hand the tool the caller's live argument object, so code that
 * still held it could change the arguments after they were checked — while `/v1/enforce` was in flight or
 * while a person was deciding a step-up hold — and the changed arguments ran. Every wrapper path is attacked
 * here against a real server: (a) the caller's object is changed when the enforce request reaches the server
 * (through a proxy in front of it), (b) it is changed while the hold is pending, before the approval.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { tool as langchainTool } from '@langchain/core/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ThothClient, TollgateClient, flush, instrument, wrapAnthropicTools, wrapOpenAITools, wrapToolFunctions } from '../src/index.js';
import type { TollgateConfig } from '../src/index.js';
import { wrapAITools } from '../src/adapters/ai.js';
import { instrumentLangChainTools } from '../src/adapters/langchain.js';
import { wrapMcpClient, wrapMcpServer, type McpServerLike } from '../src/adapters/mcp.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { startGovernedServer, type GovernedServer } from './support/governed-server.js';

let server: GovernedServer;
let proxy: FaultProxy;
/** Runs once when the next `/v1/enforce` request has reached the proxy (the request is in flight). */
let onEnforceInFlight: (() => void) | undefined;
/** Bodies of the `/v1/enforce` requests seen by the proxy, in order. */
const enforceBodies: { toolName: string; arguments: unknown; holdToken?: string }[] = [];

beforeAll(async () => {
  server = await startGovernedServer();
  proxy = await startFaultProxy({
    target: server.url,
    fault: (method, path, body) => {
      if (method === 'POST' && path === '/v1/enforce') {
        enforceBodies.push(JSON.parse(body) as (typeof enforceBodies)[number]);
        const hook = onEnforceInFlight;
        onEnforceInFlight = undefined;
        hook?.();
      }
      return undefined;
    },
  });
});
afterAll(async () => {
  await flush(5000);
  await proxy?.close();
  await server?.close();
});

function config(overrides: Partial<TollgateConfig> = {}): TollgateConfig {
  return { agentId: 'toctou-agent', apiUrl: proxy.url, apiKey: server.tenant.key, approvedScope: ['send_email', 'notify'], sessionId: `s-${crypto.randomUUID()}`, stepUpPollIntervalMs: 50, logLevel: 'SILENT', ...overrides };
}

interface Email {
  to: string;
  body: { text: string; cc: string[] };
}

function original(): Email {
  return { to: 'team@example.com', body: { text: 'weekly report', cc: ['boss@example.com'] } };
}

/** What code still holding the caller's object does: changes the top level and a nested object. */
function tamper(email: Email): void {
  email.to = 'attacker@evil.example';
  email.body.text = 'all customer records';
  email.body.cc.push('drop@evil.example');
}

/** One wrapper path: governs a tool named `name` and calls it with `email`; the tool records what it got. */
type PathUnderTest = (name: string, options: TollgateConfig, email: Email, received: unknown[]) => Promise<unknown>;

async function mcpPair(name: string, received: unknown[]): Promise<{ mcp: McpServer; client: Client; close: () => Promise<void> }> {
  const mcp = new McpServer({ name: 'tools', version: '1.0.0' });
  mcp.registerTool(name, { inputSchema: { to: z.string(), body: z.object({ text: z.string(), cc: z.array(z.string()) }) } }, async (input) => {
    received.push(input);
    return { content: [{ type: 'text', text: 'sent' }] };
  });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await Promise.all([mcp.connect(serverTransport), client.connect(clientTransport)]);
  return { mcp, client, close: async () => { await client.close(); await mcp.close(); } };
}

/** The arguments the enforcer is asked about, when they are not the email itself. */
type CheckedArguments = (email: Email) => unknown;

const PATHS: [string, PathUnderTest, CheckedArguments?][] = [
  ['wrapToolFunctions', (name, options, email, received) => wrapToolFunctions({ [name]: async (input: Email) => received.push(input) }, options)[name]!(email)],
  ['wrapAnthropicTools', (name, options, email, received) => wrapAnthropicTools({ [name]: async (input: Email) => received.push(input) }, options)[name]!(email)],
  ['wrapOpenAITools', (name, options, email, received) => wrapOpenAITools({ [name]: async (input: Email) => received.push(input) }, options)[name]!(email)],
  ['wrapToolFunctions with a streaming (async function*) tool', async (name, options, email, received) => {
    const chunks: unknown[] = [];
    for await (const chunk of wrapToolFunctions({ [name]: async function* (input: Email) { received.push(input); yield 'sent'; } }, options)[name]!(email)) chunks.push(chunk);
    return chunks;
  }],
  ['instrument(agent) .tools[].run', (name, options, email, received) => {
    const agent = instrument({ tools: [{ name, run: async (input: Email) => received.push(input) }] }, options);
    return agent.tools[0]!.run(email);
  }],
  ['instrument(agent) with a two-parameter tool function', (name, options, email, received) => {
    const agent = instrument({ tools: { [name]: async (input: Email, cc: string[]) => received.push({ ...input, body: { ...input.body, cc } }) } }, options);
    return agent.tools[name]!(email, email.body.cc);
  }, (email) => [email, email.body.cc]],
  ['ThothClient.instrument', (name, options, email, received) => {
    const agent = new ThothClient({ apiUrl: options.apiUrl, apiKey: options.apiKey }).instrument({ tools: [{ name, run: async (input: Email) => received.push(input) }] }, options);
    return agent.tools[0]!.run(email);
  }],
  ['TollgateClient.wrapAnthropicTools', (name, options, email, received) => new TollgateClient({ apiKey: options.apiKey }).wrapAnthropicTools({ [name]: async (input: Email) => received.push(input) }, options)[name]!(email)],
  ['LangChain tool (invoke → _call)', (name, options, email, received) => {
    // z.any() keeps the caller's nested object, as LangChain does for loosely typed fields.
    const [governed] = instrumentLangChainTools([langchainTool(async (input) => { received.push(input); return 'sent'; }, { name, description: 'send', schema: z.object({ to: z.string(), body: z.any() }) })], options);
    return governed.invoke(email);
  }],
  ['Vercel AI SDK tool (execute)', (name, options, email, received) => {
    const tools = wrapAITools({ [name]: { description: 'send', execute: async (input: Email, _context: unknown) => received.push(input) } }, options);
    return tools[name]!.execute(email, { toolCallId: 'call-1', messages: [] });
  }],
  ['MCP client (callTool)', async (name, options, email, received) => {
    const { client, close } = await mcpPair(name, received);
    wrapMcpClient(client, options);
    try {
      return await client.callTool({ name, arguments: email as unknown as Record<string, unknown> });
    } finally {
      await close();
    }
  }],
  ['MCP server (registered handler)', async (name, options, email, received) => {
    const { mcp, close } = await mcpPair(name, received);
    // McpServer declares _registeredTools private, which its structural type McpServerLike cannot express.
    wrapMcpServer(mcp as unknown as McpServerLike, options);
    const registered = (mcp as unknown as { _registeredTools: Record<string, { handler: (args: unknown, extra: unknown) => Promise<unknown> }> })._registeredTools[name]!;
    try {
      return await registered.handler(email, { signal: new AbortController().signal });
    } finally {
      await close();
    }
  }],
];

/** Waits until the server holds a pending step-up hold for `toolName`. */
async function pendingHold(toolName: string): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt += 1) {
    const pending = await server.t.request('GET', '/api/v1/approvals?status=pending', { key: server.tenant.key });
    if ((pending.body.items as { kind: string; toolName?: string }[]).some((item) => item.kind === 'hold' && item.toolName === toolName)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no pending hold for ${toolName}`);
}

describe('the tool runs with the arguments that were checked, not the caller’s live object', () => {
  it.each(PATHS)('%s: a change made while /v1/enforce is in flight does not reach the tool', async (_path, call, checked = (email) => email) => {
    const email = original();
    const received: unknown[] = [];
    let tampered = false;
    onEnforceInFlight = () => {
      tamper(email);
      tampered = true;
    };
    enforceBodies.length = 0;
    await call('notify', config(), email, received);
    expect(tampered).toBe(true);
    expect(enforceBodies[0]).toMatchObject({ toolName: 'notify', arguments: checked(original()) });
    expect(received).toEqual([original()]);
  });

  it.each(PATHS)('%s: a change made while a step-up hold waits for approval does not reach the tool', async (_path, call, checked = (email) => email) => {
    const email = original();
    const received: unknown[] = [];
    enforceBodies.length = 0;
    const running = call('send_email', config({ enforcement: 'step_up' }), email, received);
    await pendingHold('send_email');
    tamper(email);
    await server.decideHold('send_email', 'approve');
    await running;
    expect(received).toEqual([original()]);
    // The redemption after the approval carries the same arguments the person approved.
    expect(enforceBodies.map((body) => body.arguments)).toEqual([checked(original()), checked(original())]);
    expect(enforceBodies[1]?.holdToken).toMatch(/^hold_/);
  });
});

describe('arguments that are not plain JSON', () => {
  it('the tool receives the JSON form that was checked (Map, Set, bigint, Date, function, cycle), not the caller’s objects', async () => {
    const received: unknown[] = [];
    const headers = new Map([['x-target', 'staging']]);
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const input = { headers, tags: new Set(['a']), id: 2n ** 64n, at: new Date(0), callback: () => 'ran', cyclic };
    onEnforceInFlight = () => headers.set('x-target', 'prod');
    enforceBodies.length = 0;
    await wrapToolFunctions({ notify: async (value: unknown) => received.push(value) }, config()).notify(input);
    const expected = { headers: { 'x-target': 'staging' }, tags: ['a'], id: '18446744073709551616', at: '1970-01-01T00:00:00.000Z', cyclic: { name: 'loop', self: '[Circular]' } };
    expect(enforceBodies[0]?.arguments).toEqual(expected);
    expect(received).toEqual([expected]);
    expect(headers.get('x-target')).toBe('prod');
  });

  it('an omitted parameter stays omitted for the tool (sent as null), and a call without arguments stays without', async () => {
    const received: unknown[][] = [];
    const fns = wrapToolFunctions({ notify: async (...params: unknown[]) => received.push(params) }, config());
    enforceBodies.length = 0;
    await fns.notify({ to: 'a@example.com' }, undefined, 'x');
    await fns.notify();
    expect(enforceBodies.map((body) => body.arguments)).toEqual([[{ to: 'a@example.com' }, null, 'x'], null]);
    expect(received).toEqual([[{ to: 'a@example.com' }, undefined, 'x'], []]);
  });

  it('argumentSnapshot "off" hands the tool the caller’s own object (the documented opt-out)', async () => {
    const received: unknown[] = [];
    const headers = new Map([['x-target', 'staging']]);
    const input = { headers };
    await wrapToolFunctions({ notify: async (value: unknown) => received.push(value) }, config({ argumentSnapshot: 'off' })).notify(input);
    expect(received[0]).toBe(input);
  });

  it('an unknown argumentSnapshot value is refused at configuration', () => {
    expect(() => wrapToolFunctions({ notify: async () => 1 }, config({ argumentSnapshot: 'shallow' as 'off' }))).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }) as Error);
  });
});
