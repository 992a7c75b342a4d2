import { afterEach, describe, expect, it } from 'vitest';
import { governFunctionRecord } from './function-record.js';
import { TollgateClient } from './legacy-client.js';
import { TollgateRuntime } from './runtime.js';

// Regression: the governed record was a plain `{}`, so a model-chosen tool name such as "constructor" or "toString"
// resolved to an Object.prototype method, and the documented loop `const fn = wrapped[name]; if (fn) await fn(args)`
// ran it with no /v1/enforce check and no event.
let runtime: TollgateRuntime;
afterEach(async () => {
  await runtime?.shutdown(100);
});

function governor() {
  runtime = new TollgateRuntime();
  // A closed port: nothing in these tests may reach a server.
  return runtime.governor({ agentId: 'record-agent', apiUrl: 'http://127.0.0.1:9', logLevel: 'SILENT', events: { enabled: false } });
}

const INHERITED_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__proto__', '__defineGetter__', '__lookupGetter__'];

describe('governed function records', () => {
  it.each(INHERITED_NAMES)('a name that is not a wrapped tool (%s) resolves to undefined', (name) => {
    const wrapped = governFunctionRecord(governor(), { search_docs: async (query: string) => `searched ${query}` });
    expect(wrapped[name]).toBeUndefined();
    expect(name in wrapped).toBe(false);
  });

  it('the wrapper client records (wrapOpenAITools / wrapAnthropicTools) have no inherited names either', () => {
    runtime = new TollgateRuntime();
    const client = new TollgateClient({ runtime, apiUrl: 'http://127.0.0.1:9', logLevel: 'SILENT', events: { enabled: false } });
    for (const wrapped of [client.wrapOpenAITools({ search_docs: async () => 'ok' }, { agentId: 'a' }), client.wrapAnthropicTools({ search_docs: async () => 'ok' }, { agentId: 'a' })]) {
      expect(Object.getPrototypeOf(wrapped)).toBeNull();
      for (const name of INHERITED_NAMES) expect(wrapped[name]).toBeUndefined();
      expect(typeof wrapped.search_docs).toBe('function');
    }
  });

  it('keeps every own tool, a tool named "__proto__" or "constructor" included, as a governed own property', () => {
    const functions = JSON.parse('{"__proto__": 1, "constructor": 2, "search_docs": 3}') as Record<string, number>;
    const tools = Object.fromEntries(Object.keys(functions).map((name) => [name, async () => name]));
    const wrapped = governFunctionRecord(governor(), tools);
    expect(Object.keys(wrapped)).toEqual(['__proto__', 'constructor', 'search_docs']);
    for (const name of Object.keys(wrapped)) {
      expect(Object.prototype.hasOwnProperty.call(wrapped, name)).toBe(true);
      expect(wrapped[name]).not.toBe(tools[name]);
      expect(typeof wrapped[name]).toBe('function');
    }
  });
});
