/**
 * OpenAI function-calling integration: govern the functions your loop calls for each `tool_calls`
 * entry. Needs no import from `openai`.
 */
import type { TollgateConfig } from '../config.js';
import type { GovernedRecord } from '../function-record.js';
import { wrapToolFunctions } from '../function-record.js';

/**
 * Wraps `{ toolName: fn }` for an OpenAI tool-calling loop: `await wrapped[call.function.name](JSON.parse(call.function.arguments))`.
 * @example
 * const wrappedFns = wrapOpenAITools({ search_docs: mySearchFn }, { agentId: 'openai-agent', approvedScope: ['search_docs'] });
 * const fn = wrappedFns[call.function.name];
 * if (fn) await fn(JSON.parse(call.function.arguments));
 */
export function wrapOpenAITools<T extends Record<string, (...params: never[]) => unknown>>(functions: T, config: TollgateConfig): GovernedRecord<T> {
  return wrapToolFunctions(functions, config);
}
