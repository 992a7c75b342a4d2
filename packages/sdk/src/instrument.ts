import type { TollgateConfig } from './config.js';
import { PolicyViolationError, TollgateSdkError } from './errors.js';
import type { Governor } from './governor.js';
import { getDefaultRuntime } from './runtime.js';
import type { CallShape } from './wrap.js';
import { INSTRUMENTED, argumentAt, governFunction, governMethod } from './wrap.js';

type ToolLike = Record<string, unknown>;

/** LangChain's `_call(input, runManager, parentConfig)`: input first, abort signal in the config. */
const LANGCHAIN_CALL: CallShape = {
  split: (params) => argumentAt(params, 0),
  signal: (params) => (params[2] as { signal?: AbortSignal } | undefined)?.signal,
};

/** Vercel AI SDK's `execute(input, { abortSignal, toolCallId, messages })`. */
export const AI_SDK_EXECUTE: CallShape = {
  split: (params) => argumentAt(params, 0),
  signal: (params) => (params[1] as { abortSignal?: AbortSignal } | undefined)?.abortSignal,
};

/**
 * True for LangChain.js tools (`DynamicTool`, `DynamicStructuredTool`, `tool()`, any `StructuredTool`).
 * @example
 * isLangChainTool(new DynamicTool({ name: 'x', description: 'x', func: async () => 'ok' })); // true
 */
export function isLangChainTool(tool: unknown): boolean {
  const candidate = tool as ToolLike | null;
  return candidate !== null && typeof candidate === 'object' && typeof candidate._call === 'function' && typeof candidate.invoke === 'function';
}

/**
 * Governs one tool object in place. The method wrapped is the narrowest one every entry point goes
 * through: LangChain's `_call` (behind `invoke`, `call` and `AgentExecutor`), otherwise `run`,
 * `execute` (Vercel AI SDK) or `invoke`. Returns false when the object has none of them.
 */
export function governTool(governor: Governor, tool: object, fallbackName?: string): boolean {
  const record = tool as ToolLike;
  const name = typeof record.name === 'string' && record.name !== '' ? record.name : fallbackName;
  if (name === undefined) return false;
  if (isLangChainTool(tool)) return governMethod(governor, tool, '_call', name, LANGCHAIN_CALL);
  if (typeof record.run === 'function') return governMethod(governor, tool, 'run', name);
  if (typeof record.execute === 'function') return governMethod(governor, tool, 'execute', name, AI_SDK_EXECUTE);
  return governMethod(governor, tool, 'invoke', name);
}

/** Governs every entry of a tools array or record, in place. Bare functions are replaced by governed ones. */
export function governTools(governor: Governor, tools: unknown[] | Record<string, unknown>): number {
  let count = 0;
  const entries: [string | number, unknown][] = Array.isArray(tools) ? tools.map((tool, index) => [index, tool]) : Object.entries(tools);
  for (const [key, tool] of entries) {
    if (typeof tool === 'function') {
      const name = tool.name || String(key);
      (tools as Record<string | number, unknown>)[key] = governFunction(governor, name, tool as (...params: never[]) => unknown);
      count += 1;
    } else if (tool !== null && typeof tool === 'object' && governTool(governor, tool, typeof key === 'string' ? key : undefined)) {
      count += 1;
    }
  }
  return count;
}

/** Where agents keep their tools: `.tools` (plain objects, AgentExecutor), `.options.tools` (LangChain 1.x `createAgent`). */
function toolCollections(agent: ToolLike): (unknown[] | Record<string, unknown>)[] {
  const found: (unknown[] | Record<string, unknown>)[] = [];
  for (const holder of [agent, agent.options as ToolLike | undefined]) {
    const tools = holder?.tools;
    if (Array.isArray(tools) || (tools !== null && typeof tools === 'object')) found.push(tools as unknown[] | Record<string, unknown>);
  }
  return found;
}

type ErrorHandler = ((error: unknown) => unknown) & { [INSTRUMENTED]?: true };

/**
 * LangChain's `AgentExecutor` (langchain 0.3, `@langchain/classic`) swallows errors thrown by tools
 * unless `handleToolRuntimeErrors` is set: the model then sees an empty observation and the loop goes
 * on. The seed promises that a refused call throws, so refusals are made to propagate; any other
 * error keeps the executor's own handling.
 */
function propagateRefusals(agent: ToolLike): void {
  if (!('handleToolRuntimeErrors' in agent) || !('agent' in agent)) return;
  const current = agent.handleToolRuntimeErrors as ErrorHandler | undefined;
  if (current?.[INSTRUMENTED]) return;
  const handler: ErrorHandler = (error: unknown) => {
    if (error instanceof PolicyViolationError) throw error;
    return typeof current === 'function' ? current(error) : undefined;
  };
  Object.defineProperty(handler, INSTRUMENTED, { value: true });
  agent.handleToolRuntimeErrors = handler;
}

/**
 * Governs an agent with the given governor: its tools (array or record), or the object itself when
 * it is a tool, or each element when it is an array of tools. Mutates in place.
 */
export function instrumentWith<T>(governor: Governor, agent: T): T {
  if (Array.isArray(agent)) {
    governTools(governor, agent);
    return agent;
  }
  if (agent === null || typeof agent !== 'object') throw new TollgateSdkError('CONFIG_INVALID', 'instrument() needs an agent object, a tool or an array of tools');
  const collections = toolCollections(agent as ToolLike);
  for (const tools of collections) governTools(governor, tools);
  propagateRefusals(agent as ToolLike);
  if (collections.length === 0 && !governTool(governor, agent)) {
    throw new TollgateSdkError('CONFIG_INVALID', 'instrument() found no tools: pass an object with a .tools array, a tool, or an array of tools');
  }
  return agent;
}

/**
 * Puts every tool call of `agent` under governance and returns the same object, mutated in place.
 * Works on any object with a `.tools` array whose tools have `.run`, on LangChain.js tools and
 * `AgentExecutor`s, on Vercel AI SDK tool records, on a single tool, and on an array of tools.
 * Instrumenting again replaces the configuration; it never enforces twice.
 * @example
 * const governed = instrument(agent, { agentId: 'research-agent', approvedScope: ['web_search'], enforcement: 'block' });
 * await governed.tools[0].run('query'); // checked against /v1/enforce first
 */
export function instrument<T>(agent: T, config: TollgateConfig): T {
  return instrumentWith(getDefaultRuntime().governor(config), agent);
}
