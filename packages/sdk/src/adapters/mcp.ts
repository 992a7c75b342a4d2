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
import type { CallShape } from '../wrap.js';
import { INSTRUMENTED, argumentAt, governFunction, wrapStateOf } from '../wrap.js';

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
  // Not declared here: the MCP SDK's `McpServer` keeps its tool table in a *private* `_registeredTools`, and a
  // public member of the same name would make `wrapMcpServer(new McpServer(…))` fail to type-check.
}

/** The tools registered before wrapping (the MCP SDK's private table, read without declaring it). */
function registeredTools(server: McpServerLike): Record<string, McpRegisteredToolLike> {
  return (server as unknown as { _registeredTools?: Record<string, McpRegisteredToolLike> })._registeredTools ?? {};
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
    // The request is copied at once, name included: the tool name and arguments that are checked are the ones sent.
    const request = { ...(params[0] as { name: string; arguments?: unknown }) };
    const options = params[2] as { signal?: AbortSignal } | undefined;
    const send = (args: unknown) => original.apply(this, [{ ...request, arguments: args }, ...params.slice(1)]);
    return wrapperState.governor.call(request.name, { args: request.arguments ?? {} }, send, options?.signal);
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

/** Marks a registered tool whose `handler` is already a governing accessor. */
const GOVERNED_HANDLER = Symbol.for('tollgate.mcp.governedHandler');

/**
 * Turns `tool.handler` into an accessor that governs whatever function is put there, so a handler
 * replaced later through the MCP SDK's `tool.update({ callback })` is governed too. Whether the
 * handler receives arguments is read at call time, as `update({ paramsSchema })` may change it.
 */
function governRegisteredTool(governor: Governor, name: string, tool: McpRegisteredToolLike): void {
  const marked = tool as McpRegisteredToolLike & { [GOVERNED_HANDLER]?: { governor: Governor } };
  const existing = marked[GOVERNED_HANDLER];
  if (existing) {
    existing.governor = governor;
    const current = wrapStateOf(tool.handler);
    if (current) current.governor = governor;
    return;
  }
  const state = { governor };
  const shape: CallShape = {
    // Without an input schema the handler's only parameter is the request context: nothing to snapshot.
    split: (params) => (tool.inputSchema !== undefined ? argumentAt(params, 0) : { args: {}, rebuild: () => params }),
    signal: (params) => (params[tool.inputSchema !== undefined ? 1 : 0] as { signal?: AbortSignal } | undefined)?.signal,
  };
  // Task-based handlers ({ createTask, … }) are objects, not functions: they are left as they are.
  const govern = (handler: unknown): unknown => (typeof handler === 'function' ? governFunction(state.governor, name, handler as (...params: never[]) => unknown, shape) : handler);
  let current = govern(tool.handler);
  Object.defineProperty(tool, 'handler', {
    get: () => current,
    set: (next: unknown) => {
      current = govern(next);
    },
    enumerable: true,
    configurable: true,
  });
  Object.defineProperty(tool, GOVERNED_HANDLER, { value: state });
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
  for (const [name, tool] of Object.entries(registeredTools(server))) governRegisteredTool(governor, name, tool);
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
