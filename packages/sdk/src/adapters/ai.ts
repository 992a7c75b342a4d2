/**
 * Vercel AI SDK integration: govern the `tools` record passed to `generateText` / `streamText`.
 * Needs no import from `ai`.
 */
import type { TollgateConfig } from '../config.js';
import { governTools } from '../instrument.js';
import { getDefaultRuntime } from '../runtime.js';

/**
 * Governs each tool's `execute` in place (including `async function*` streaming tools) and returns
 * the same record. The record keys are the tool names the policy sees; the SDK's `abortSignal`
 * cancels a step-up wait.
 * @example
 * const tools = wrapAITools({ weather: tool({ inputSchema, execute }) }, { agentId: 'ai-agent', approvedScope: ['weather'] });
 * await generateText({ model, tools, prompt });
 */
export function wrapAITools<T extends Record<string, object>>(tools: T, config: TollgateConfig): T {
  governTools(getDefaultRuntime().governor(config), tools);
  return tools;
}
