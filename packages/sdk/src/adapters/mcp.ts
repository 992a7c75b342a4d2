/**
 * Model Context Protocol integration, both sides, without importing `@modelcontextprotocol/sdk`:
 * - client side: {@link wrapMcpClient} governs `client.callTool(...)` (the tool name comes from each call);
 * - server side: {@link wrapMcpServer} governs the handlers of an `McpServer`'s tools, registered before
 *   or after the call. A refused call throws in the handler, which the MCP server returns as an
 *   `isError: true` tool result.
 */
import type { TollgateConfig } from '../config.js';
import type { Governor } from '../governor.js';
import { getDefaultRuntime } from '../runtime.js';
import { INSTRUMENTED, governFunction } from '../wrap.js';

/** The part of an MCP `Client` this adapter uses. */
export interface McpClientLike {
  callTool(params: { name: string; arguments?: Record<string, unknown> }, ...rest: never[]): Promise<unknown>;
}

/** The part of an MCP `RegisteredTool` this adapter uses. */
export interface McpRegisteredToolLike {
  handler: unknown;
  inputSchema?: unknown;
}

/** The part of an `McpServer` this adapter uses (`_registeredTools` is internal to the MCP SDK but stable across 1.x). */
export interface McpServerLike {
  registerTool(name: string, ...rest: never[]): McpRegisteredToolLike;
  _registeredTools?: Record<string, McpRegisteredToolLike>;
}

/**
 * Governs an MCP client's `callTool` in place and returns the client. Each call is checked with the
 * tool name and arguments of that call; a refusal throws `PolicyViolationError` before the request is sent.
 * @example
 * const client = wrapMcpClient(new Client({ name: 'agent', version: '1.0.0' }), { agentId: 'mcp-agent', approvedScope: ['search'] });
 * await client.callTool({ name: 'search', arguments: { q: 'x' } });
 */
export function wrapMcpClient<T extends McpClientLike>(client: T, config: TollgateConfig): T {
  const governor = getDefaultRuntime().governor(config);
  const record = client as unknown as { callTool: ((...params: unknown[]) => Promise<unknown>) & { [INSTRUMENTED]?: { governor: Governor } } };
  const current = record.callTool;
  const state = current[INSTRUMENTED];
  if (state) {
    state.governor = governor;
    return client;
  }
  const original = current;
  const wrapperState = { governor };
  const governed = async function governedCallTool(this: unknown, ...params: unknown[]) {
    const request = params[0] as { name: string; arguments?: unknown };
    const options = params[2] as { signal?: AbortSignal } | undefined;
    return wrapperState.governor.call(request.name, request.arguments ?? {}, () => original.apply(this, params), options?.signal);
  };
  Object.defineProperty(governed, INSTRUMENTED, { value: wrapperState, enumerable: false });
  record.callTool = governed;
  return client;
}

/**
 * Governs one registered MCP tool's handler in place.
 * @example
 * wrapMcpToolHandler('search', server.registerTool('search', { inputSchema }, handler), { agentId: 'mcp-server' });
 */
export function wrapMcpToolHandler<T extends McpRegisteredToolLike>(name: string, tool: T, config: TollgateConfig): T {
  governRegisteredTool(getDefaultRuntime().governor(config), name, tool);
  return tool;
}

function governRegisteredTool(governor: Governor, name: string, tool: McpRegisteredToolLike): void {
  if (typeof tool.handler !== 'function') return; // task-based handlers ({ createTask, … }) are not wrapped
  const hasInput = tool.inputSchema !== undefined;
  tool.handler = governFunction(governor, name, tool.handler as (...params: never[]) => unknown, {
    args: (params) => (hasInput ? params[0] : {}),
    signal: (params) => (params[hasInput ? 1 : 0] as { signal?: AbortSignal } | undefined)?.signal,
  });
}

/**
 * Governs every tool of an `McpServer`: those already registered and those registered later through
 * `registerTool`. Returns the same server.
 * @example
 * const server = wrapMcpServer(new McpServer({ name: 'tools', version: '1.0.0' }), { agentId: 'mcp-server', enforcement: 'block' });
 * server.registerTool('delete_record', { inputSchema: { id: z.string() } }, async ({ id }) => …);
 */
export function wrapMcpServer<T extends McpServerLike>(server: T, config: TollgateConfig): T {
  const governor = getDefaultRuntime().governor(config);
  for (const [name, tool] of Object.entries(server._registeredTools ?? {})) governRegisteredTool(governor, name, tool);
  const record = server as unknown as { registerTool: ((...params: unknown[]) => McpRegisteredToolLike) & { [INSTRUMENTED]?: { governor: Governor } } };
  const existing = record.registerTool[INSTRUMENTED];
  if (existing) {
    existing.governor = governor;
    return server;
  }
  const original = record.registerTool;
  const state = { governor };
  const registerTool = function governedRegisterTool(this: unknown, ...params: unknown[]) {
    const registered = original.apply(this, params);
    governRegisteredTool(state.governor, String(params[0]), registered);
    return registered;
  };
  Object.defineProperty(registerTool, INSTRUMENTED, { value: state, enumerable: false });
  record.registerTool = registerTool;
  return server;
}
