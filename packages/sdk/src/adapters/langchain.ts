/**
 * LangChain.js integration (0.3 and 1.x). Tools are governed at `_call`, the method behind
 * `invoke`, `call`, `AgentExecutor` (0.3 and `@langchain/classic`) and `createAgent`'s tool node (1.x).
 * Needs no import from `@langchain/core`.
 */
import type { TollgateConfig } from '../config.js';
import { governTools, instrument } from '../instrument.js';
import { getDefaultRuntime } from '../runtime.js';

export { instrument, isLangChainTool } from '../instrument.js';

/**
 * Governs an array of LangChain tools in place and returns it, e.g. before `createAgent({ tools })`.
 * @example
 * const tools = instrumentLangChainTools([webSearch, readFile], { agentId: 'research-agent', approvedScope: ['web_search'] });
 * const agent = createAgent({ model, tools });
 */
export function instrumentLangChainTools<T extends object[]>(tools: T, config: TollgateConfig): T {
  governTools(getDefaultRuntime().governor(config), tools);
  return tools;
}

/**
 * Governs an `AgentExecutor` (or anything with `.tools`) in place; the same as `instrument`.
 * @example
 * const governed = instrumentAgentExecutor(executor, { agentId: 'research-agent' });
 */
export function instrumentAgentExecutor<T extends object>(executor: T, config: TollgateConfig): T {
  return instrument(executor, config);
}
