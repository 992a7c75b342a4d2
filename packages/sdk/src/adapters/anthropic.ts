/**
 * Anthropic Messages API integration: govern the functions your tool-use loop calls for each
 * `tool_use` block. Needs no import from `@anthropic-ai/sdk`.
 */
import type { TollgateConfig } from '../config.js';
import type { GovernedRecord } from '../function-record.js';
import { wrapToolFunctions } from '../function-record.js';

/**
 * Wraps `{ toolName: fn }` for an Anthropic tool-use loop: `await wrapped[block.name](block.input)`.
 * @example
 * const wrappedFns = wrapAnthropicTools({ search_docs: mySearchFn }, { agentId: 'claude-agent', approvedScope: ['search_docs'], enforcement: 'step_up' });
 * const fn = wrappedFns[block.name];
 * if (fn) await fn(block.input);
 */
export function wrapAnthropicTools<T extends Record<string, (...params: never[]) => unknown>>(functions: T, config: TollgateConfig): GovernedRecord<T> {
  return wrapToolFunctions(functions, config);
}
