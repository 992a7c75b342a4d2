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
});
