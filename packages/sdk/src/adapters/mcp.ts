/**
 * Model Context Protocol integration, both sides, without importing `@modelcontextprotocol/sdk`:
 * - client side: {@link wrapMcpClient} governs `client.callTool(...)` (the tool name comes from each call);
 * - server side: {@link wrapMcpServer} governs the handlers of an `McpServer`'s tools, registered before
 *   or after the call. A refused call throws in the handler, which the MCP server returns as an
 *   `isError: true` tool result.
 */
import type { TollgateConfig } from '../config.js';
import type { Governor } from '../governor.js';
import { TollgateSdkError } from '../errors.js';
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

/** The part of an `McpServer` this adapter uses (its internals, read without declaring them: see {@link serverInternals}). */
export interface McpServerLike {
  registerTool(name: string, ...rest: never[]): McpRegisteredToolLike;
  // Not declared here: the MCP SDK's `McpServer` keeps its tool table in a *private* `_registeredTools`, and a
  // public member of the same name would make `wrapMcpServer(new McpServer(…))` fail to type-check.
}

/** A registration method: its first parameter is the tool's name, and it returns the registered tool. */
type RegisterFunction = ((...params: unknown[]) => McpRegisteredToolLike) & { [INSTRUMENTED]?: { governor: Governor } };

/**
 * The MCP SDK internals (1.x) {@link wrapMcpServer} relies on: the tool table, and `_createRegisteredTool`, the one
 * function `registerTool`, `tool` and `experimental.tasks.registerToolTask` all go through.
 */
interface McpServerInternals {
  _registeredTools: Record<string, McpRegisteredToolLike>;
  _createRegisteredTool: RegisterFunction;
}

/** Public registration methods also wrapped, in case a later MCP SDK stops routing them through `_createRegisteredTool`. */
const PUBLIC_REGISTER_METHODS = ['registerTool', 'tool'] as const;

/**
 * The server's internals, or a `CONFIG_INVALID` error: without them tools registered later (or renamed) would run
 * ungoverned, so the adapter refuses to wrap rather than govern only part of the server.
 */
function serverInternals(server: McpServerLike): McpServerInternals {
  const candidate = server as unknown as Partial<McpServerInternals>;
  const missing = [
    ...(candidate._registeredTools !== null && typeof candidate._registeredTools === 'object' ? [] : ['_registeredTools']),
    ...(typeof candidate._createRegisteredTool === 'function' ? [] : ['_createRegisteredTool']),
  ];
  if (missing.length > 0) {
    throw new TollgateSdkError(
      'CONFIG_INVALID',
      `wrapMcpServer: this McpServer lacks ${missing.join(' and ')}, through which @modelcontextprotocol/sdk 1.x registers tools; ` +
        'its tools cannot all be governed, so none were wrapped (govern each tool with wrapMcpToolHandler, or use a supported MCP SDK version)',
      { details: { adapter: 'mcp', missing } },
    );
  }
  return candidate as McpServerInternals;
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
 * Governs one registered MCP tool's handler in place. The decision uses the tool's current name: a rename through
 * the MCP SDK's `tool.update({ name })` is governed under the new name.
 * @example
 * wrapMcpToolHandler('search', server.registerTool('search', { inputSchema }, handler), { agentId: 'mcp-server' });
 */
export function wrapMcpToolHandler<T extends McpRegisteredToolLike>(name: string, tool: T, config: TollgateConfig): T {
  governRegisteredTool(getDefaultRuntime().governor(config), name, tool);
  return tool;
}

/** Marks a registered tool whose `handler` is already a governing accessor. */
const GOVERNED_HANDLER = Symbol.for('tollgate.mcp.governedHandler');

/** What a governed tool remembers: the governor it reports to and the name it was last given. */
interface GovernedToolState {
  governor: Governor;
  name: string;
}

/**
 * Turns `tool.handler` into an accessor that governs whatever function is put there, so a handler
 * replaced later through the MCP SDK's `tool.update({ callback })` is governed too. Whether the
 * handler receives arguments is read at call time, as `update({ paramsSchema })` may change it; so is
 * the tool's name, which `update({ name })` may change (see {@link followRenames}).
 */
function governRegisteredTool(governor: Governor, name: string, tool: McpRegisteredToolLike): void {
  const marked = tool as McpRegisteredToolLike & { [GOVERNED_HANDLER]?: GovernedToolState };
  const existing = marked[GOVERNED_HANDLER];
  if (existing) {
    existing.governor = governor;
    const current = wrapStateOf(tool.handler);
    if (current) current.governor = governor;
    return;
  }
  const state: GovernedToolState = { governor, name };
  const shape: CallShape = {
    // Without an input schema the handler's only parameter is the request context: nothing to snapshot.
    split: (params) => (tool.inputSchema !== undefined ? argumentAt(params, 0) : { args: {}, rebuild: () => params }),
    signal: (params) => (params[tool.inputSchema !== undefined ? 1 : 0] as { signal?: AbortSignal } | undefined)?.signal,
  };
  // A handler governed elsewhere (another tool's, or instrument()'s) is unwrapped first, so it is checked once,
  // under this tool's name and with MCP's call shape. Task-based handlers ({ createTask, … }) are objects, not
  // functions: they are left as they are.
  const govern = (handler: unknown): unknown => {
    if (typeof handler !== 'function') return handler;
    const plain = wrapStateOf(handler)?.original ?? (handler as (...params: never[]) => unknown);
    return governFunction(state.governor, () => state.name, plain, shape);
  };
  let current = govern(tool.handler);
  Object.defineProperty(tool, 'handler', {
    get: () => current,
    set: (next: unknown) => {
      current = govern(next);
    },
    enumerable: true,
    configurable: true,
  });
  followRenames(tool, state);
  Object.defineProperty(tool, GOVERNED_HANDLER, { value: state });
}

/**
 * Keeps `state.name` equal to the name the app last gave the tool through the MCP SDK's `tool.update({ name })`
 * (also what `disable`/`enable`/`remove` call), so a renamed tool is checked under its new name. Without this the
 * policy would judge a tool renamed to `delete_record` as the harmless name it was registered under.
 */
function followRenames(tool: McpRegisteredToolLike, state: GovernedToolState): void {
  const record = tool as unknown as { update?: unknown };
  const original = record.update;
  if (typeof original !== 'function') return;
  record.update = function governedUpdate(this: unknown, ...params: unknown[]) {
    const result: unknown = original.apply(this, params);
    const rename = (params[0] as { name?: unknown } | undefined)?.name;
    if (typeof rename === 'string') state.name = rename;
    return result;
  };
}

/**
 * Governs every tool of an `McpServer`: those already registered and those registered later, through
 * `registerTool`, the older `tool()` or `experimental.tasks.registerToolTask` (all of which go through the MCP SDK's
 * `_createRegisteredTool`). Returns the same server. Throws `CONFIG_INVALID` when the server lacks those internals.
 * @example
 * const server = wrapMcpServer(new McpServer({ name: 'tools', version: '1.0.0' }), { agentId: 'mcp-server', enforcement: 'block' });
 * server.registerTool('delete_record', { inputSchema: { id: z.string() } }, async ({ id }) => …);
 */
export function wrapMcpServer<T extends McpServerLike>(server: T, config: TollgateConfig): T {
  const internals = serverInternals(server);
  const governor = getDefaultRuntime().governor(config);
  for (const [name, tool] of Object.entries(internals._registeredTools)) governRegisteredTool(governor, name, tool);
  const existing = internals._createRegisteredTool[INSTRUMENTED];
  if (existing) {
    existing.governor = governor;
    return server;
  }
  const state = { governor };
  const methods = server as unknown as Record<string, unknown>;
  for (const method of ['_createRegisteredTool', ...PUBLIC_REGISTER_METHODS]) {
    if (typeof methods[method] === 'function') methods[method] = governRegistrations(methods[method] as RegisterFunction, state);
  }
  return server;
}

/** `register`, with the tool it returns governed under the name it was registered with (its first parameter). */
function governRegistrations(register: RegisterFunction, state: { governor: Governor }): RegisterFunction {
  const governed = function governedRegistration(this: unknown, ...params: unknown[]) {
    const registered = register.apply(this, params);
    governRegisteredTool(state.governor, String(params[0]), registered);
    return registered;
  };
  Object.defineProperty(governed, INSTRUMENTED, { value: state, enumerable: false });
  return governed;
}
