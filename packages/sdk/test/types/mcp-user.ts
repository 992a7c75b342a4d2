// Compiled (not run) by package-shape.test.ts against the built package's type declarations: code a user writes
// with the real MCP SDK must type-check, as the docs show it.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { wrapMcpClient, wrapMcpServer } from '@tollgate/sdk/mcp';

const server: McpServer = wrapMcpServer(new McpServer({ name: 'tools', version: '1.0.0' }), { agentId: 'mcp-server', enforcement: 'block' });
const client: Client = wrapMcpClient(new Client({ name: 'agent', version: '1.0.0' }), { agentId: 'mcp-agent', approvedScope: ['search'] });

export { client, server };
