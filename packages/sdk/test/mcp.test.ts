import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { flush } from '../src/index.js';
import type { TollgateConfig } from '../src/index.js';
import { wrapMcpClient, wrapMcpServer } from '../src/adapters/mcp.js';
import { startGovernedServer, type GovernedServer } from './support/governed-server.js';

let server: GovernedServer;
beforeAll(async () => {
  server = await startGovernedServer();
});
afterAll(async () => {
  await flush(5000);
  await server?.close();
});

function config(overrides: Partial<TollgateConfig> = {}): TollgateConfig {
  return { agentId: 'mcp-agent', apiUrl: server.url, apiKey: server.tenant.key, approvedScope: ['read_file', 'delete_record'], logLevel: 'SILENT', ...overrides };
}

async function connectedPair(ran: string[], governServer?: TollgateConfig) {
  const mcp = new McpServer({ name: 'tools', version: '1.0.0' });
  // One tool registered before wrapping (delete_record), one after (read_file): both must be governed.
  mcp.registerTool('delete_record', { inputSchema: { id: z.string() } }, async ({ id }) => {
    ran.push(`delete_record ${id}`);
    return { content: [{ type: 'text', text: `deleted ${id}` }] };
  });
  if (governServer) wrapMcpServer(mcp, governServer);
  mcp.registerTool('read_file', { inputSchema: { path: z.string() } }, async ({ path }) => {
    ran.push(`read_file ${path}`);
    return { content: [{ type: 'text', text: `Contents of ${path}` }] };
  });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await Promise.all([mcp.connect(serverTransport), client.connect(clientTransport)]);
  return { client, close: async () => { await client.close(); await mcp.close(); } };
}

describe('MCP', () => {
  it('client side: callTool is checked first; a refused call is never sent to the MCP server', async () => {
    const ran: string[] = [];
    const { client, close } = await connectedPair(ran);
    wrapMcpClient(client, config());
    const read = await client.callTool({ name: 'read_file', arguments: { path: '/tmp/a' } });
    expect(read.content).toEqual([{ type: 'text', text: 'Contents of /tmp/a' }]);
    await expect(client.callTool({ name: 'delete_record', arguments: { id: '7' } })).rejects.toMatchObject({ code: 'POLICY_VIOLATION', toolName: 'delete_record' });
    expect(ran).toEqual(['read_file /tmp/a']);
    await close();
  });

  it('server side: tool handlers registered before and after wrapping are governed; refusals come back as tool errors', async () => {
    const ran: string[] = [];
    const { client, close } = await connectedPair(ran, config({ agentId: 'mcp-server' }));
    const removed = await client.callTool({ name: 'delete_record', arguments: { id: '8' } });
    expect(removed.isError).toBe(true);
    expect(JSON.stringify(removed.content)).toContain('records are never deleted by an agent');
    const allowed = await client.callTool({ name: 'read_file', arguments: { path: '/tmp/b' } });
    expect(allowed.isError).toBeFalsy();
    expect(ran).toEqual(['read_file /tmp/b']);
    await flush(5000);
    const events = await server.events({ agentId: 'mcp-server' });
    expect(events.filter((event) => event.eventType === 'TOOL_CALL_POST').map((event) => `${event.toolName} ${event.outcome}`).sort()).toEqual(['delete_record blocked', 'read_file success']);
    await close();
  });

  // Regression: RegisteredTool.update({ callback }) put a new, ungoverned handler in place of the
  // governed one, so a tool refused by policy ran after the app updated it.
  it('server side: a handler replaced through tool.update({ callback }) is governed too', async () => {
    const ran: string[] = [];
    const mcp = new McpServer({ name: 'tools', version: '1.0.0' });
    const tool = mcp.registerTool('delete_record', { inputSchema: { id: z.string() } }, async ({ id }) => {
      ran.push(`old ${id}`);
      return { content: [{ type: 'text', text: 'old' }] };
    });
    wrapMcpServer(mcp, config({ agentId: 'mcp-update' }));
    tool.update({
      callback: async ({ id }: { id: string }) => {
        ran.push(`new ${id}`);
        return { content: [{ type: 'text' as const, text: 'new' }] };
      },
    });
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'agent', version: '1.0.0' });
    await Promise.all([mcp.connect(serverTransport), client.connect(clientTransport)]);
    const removed = await client.callTool({ name: 'delete_record', arguments: { id: '9' } });
    expect(removed.isError).toBe(true);
    expect(ran).toEqual([]);
    await client.close();
    await mcp.close();
  });

  // Regression: only registerTool was wrapped, so a tool added through the older `server.tool()` after
  // wrapMcpServer ran without any policy check.
  it('server side: a tool added through server.tool() after wrapping is governed', async () => {
    const ran: string[] = [];
    const mcp = new McpServer({ name: 'tools', version: '1.0.0' });
    wrapMcpServer(mcp, config({ agentId: 'mcp-tool-api', enforcement: 'block' }));
    mcp.tool('delete_record', { id: z.string() }, async ({ id }) => {
      ran.push(`delete_record ${id}`);
      return { content: [{ type: 'text', text: `deleted ${id}` }] };
    });
    mcp.tool('read_file', async () => {
      ran.push('read_file');
      return { content: [{ type: 'text', text: 'contents' }] };
    });
    const { client, close } = await connect(mcp);
    const removed = await client.callTool({ name: 'delete_record', arguments: { id: '7' } });
    expect(removed.isError).toBe(true);
    expect(JSON.stringify(removed.content)).toContain('records are never deleted by an agent');
    expect((await client.callTool({ name: 'read_file', arguments: {} })).isError).toBeFalsy();
    expect(ran).toEqual(['read_file']);
    await flush(5000);
    const events = await server.events({ agentId: 'mcp-tool-api' });
    expect(events.filter((event) => event.eventType === 'TOOL_CALL_POST').map((event) => `${event.toolName} ${event.outcome}`).sort()).toEqual(['delete_record blocked', 'read_file success']);
    await close();
  });

  // Regression: the tool name was fixed when the tool was wrapped, so a tool renamed to delete_record through
  // tool.update({ name }) was checked (and allowed) as the read_file it was registered as.
  it('server side: a tool renamed through tool.update({ name }) is checked under its new name', async () => {
    const ran: string[] = [];
    const mcp = new McpServer({ name: 'tools', version: '1.0.0' });
    const before = mcp.registerTool('read_file', { inputSchema: { id: z.string() } }, async ({ id }) => {
      ran.push(`registered before ${id}`);
      return { content: [{ type: 'text', text: `done ${id}` }] };
    });
    wrapMcpServer(mcp, config({ agentId: 'mcp-rename', approvedScope: ['read_file', 'read_notes', 'delete_record', 'delete_file'] }));
    const after = mcp.registerTool('read_notes', { inputSchema: { id: z.string() } }, async ({ id }) => {
      ran.push(`registered after ${id}`);
      return { content: [{ type: 'text', text: `done ${id}` }] };
    });
    before.update({ name: 'delete_record' });
    after.update({ name: 'delete_file' });
    const { client, close } = await connect(mcp);
    for (const name of ['delete_record', 'delete_file']) {
      const result = await client.callTool({ name, arguments: { id: '7' } });
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result.content)).toContain('records are never deleted by an agent');
    }
    expect(ran).toEqual([]);
    await flush(5000);
    const events = await server.events({ agentId: 'mcp-rename' });
    expect(events.filter((event) => event.eventType === 'TOOL_CALL_POST').map((event) => `${event.toolName} ${event.outcome}`).sort()).toEqual(['delete_file blocked', 'delete_record blocked']);
    await close();
  });

  it('server side: refuses to wrap, rather than govern part of the tools, when the MCP SDK internals are not there', () => {
    const mcp = new McpServer({ name: 'tools', version: '1.0.0' });
    // What a future MCP SDK without `_createRegisteredTool` would look like to the adapter.
    Object.defineProperty(mcp, '_createRegisteredTool', { value: undefined });
    expect(() => wrapMcpServer(mcp, config())).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('_createRegisteredTool') }));
  });
});

async function connect(mcp: McpServer) {
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await Promise.all([mcp.connect(serverTransport), client.connect(clientTransport)]);
  return { client, close: async () => { await client.close(); await mcp.close(); } };
}
