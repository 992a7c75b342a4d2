import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../src/index.js';
import type { SandboxSupervisor } from '../src/index.js';
import { runCode, testSupervisor } from './fixtures/harness.js';

// Each case tries to reach the host realm. In QuickJS there is no host realm to reach: every object the guest can
// touch was created inside the WASM heap, so the constructor chain ends at the guest's own Function.
let sandbox: SandboxSupervisor;
beforeAll(async () => { sandbox = testSupervisor(); await sandbox.start(); });
afterAll(async () => { await sandbox.close(); });

const PROBE = `const probe = (F) => F('return [typeof process, typeof require, typeof globalThis.__tg_call, typeof Buffer].join()')();`;
const NOTHING = 'undefined,undefined,undefined,undefined';
const handlers = {
  read_context: async () => ({ nested: { value: 1 } }),
  http_request: async () => ({ status: 200, headers: {}, body: { ok: true } }),
};

describe('constructor-chain climbs', () => {
  it.each([
    ['tollgate', 'tollgate'],
    ['thetazero', 'thetazero'],
    ['tollgate.log', 'tollgate.log'],
    ['tollgate.http_request', 'tollgate.http_request'],
    ['tollgate.read_context', 'tollgate.read_context'],
    ['tollgate.write_result', 'tollgate.write_result'],
    ['input', 'input'],
    ['setTimeout', 'setTimeout'],
    ['clearTimeout', 'clearTimeout'],
    ['globalThis', 'globalThis'],
    ['a host-call promise', 'tollgate.read_context("k")'],
    ['a host-call result', 'await tollgate.read_context("k")'],
    ['a nested host-call result', '(await tollgate.read_context("k")).nested'],
    ['an http_request response', 'await tollgate.http_request("https://example.com/")'],
    ['a log promise', 'tollgate.log("x")'],
  ])('from %s reaches nothing of the host', async (_name, expression) => {
    const code = `${PROBE}
const start = ${expression};
const viaConstructor = probe(start.constructor.constructor);
const viaProto = probe(Object.getPrototypeOf(start).constructor.constructor);
return [viaConstructor, viaProto];`;
    const result = await runCode(sandbox, code, { permissions: [...PERMISSIONS.FULL], allow_network: true }, { handlers });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual([NOTHING, NOTHING]);
  });

  it.each([
    ['a denied host call', 'await tollgate.http_request("https://example.com/")'],
    ['a bad-argument host call', 'await tollgate.read_context(42)'],
    ['a failing handler', 'await tollgate.read_context("boom")'],
    ['write_result of a non-JSON value', 'tollgate.write_result(10n)'],
    ['a timer with a bad callback', 'setTimeout(42)'],
  ])('from the error of %s reaches nothing of the host', async (_name, statement) => {
    const code = `${PROBE}
try { ${statement}; return 'no error'; }
catch (e) { return [probe(e.constructor.constructor), Object.keys(e).join(), typeof e.stack, String(e.stack).includes('/')]; }`;
    const result = await runCode(sandbox, code, { permissions: [...PERMISSIONS.READONLY] }, {
      handlers: { read_context: async () => { throw Object.assign(new Error('secret host detail /etc/passwd'), { code: 'BOOM', host: process }); } },
    });
    expect(result.status).toBe('completed');
    const [reach, keys, stackType, hasPath] = result.output as [string, string, string, boolean];
    expect(reach).toBe(NOTHING);
    expect(keys === '' || keys === 'code').toBe(true);
    expect(stackType).toBe('string');
    expect(hasPath).toBe(false);
  });

  it('hands a handler error to the guest as code and message only', async () => {
    const result = await runCode(sandbox, 'try { await tollgate.read_context("k") } catch (e) { return [e.code, e.message, Object.keys(e)] }', {}, {
      handlers: { read_context: async () => { throw Object.assign(new Error('context store down'), { code: 'STORE_DOWN', secret: 's3cr3t' }); } },
    });
    expect(result.output).toEqual(['STORE_DOWN', 'context store down', ['code']]);
  });
});

describe('Error.prepareStackTrace and Proxy-valued errors', () => {
  it('ignores Error.prepareStackTrace (a V8 hook): no call-site objects, stacks stay guest strings', async () => {
    const code = `${PROBE}
let framesSeen = 0;
const reached = [];
Error.prepareStackTrace = (error, frames) => {
  framesSeen += frames?.length ?? 0;
  for (const f of frames ?? []) for (const get of ['getThis', 'getFunction']) {
    try { const v = f[get]?.(); if (v && v.constructor) reached.push(probe(v.constructor.constructor)); } catch (e) { /* ignore */ }
  }
  return 'custom';
};
const stacks = [];
try { await tollgate.http_request('https://example.com/'); } catch (e) { stacks.push(e.stack); }
try { null.x } catch (e) { stacks.push(e.stack); }
return { framesSeen, reached: reached.filter((r) => r !== '${NOTHING}'), custom: stacks.filter((s) => s === 'custom').length, types: stacks.map((s) => typeof s) };`;
    const result = await runCode(sandbox, code);
    expect(result.status).toBe('completed');
    // If a QuickJS upgrade starts honouring the hook, this fails and the frames it exposes must be reviewed.
    expect(result.output).toEqual({ framesSeen: 0, reached: [], custom: 0, types: ['string', 'string'] });
  });

  it('bounds a thrown Proxy whose traps loop forever', async () => {
    const result = await runCode(sandbox, 'throw new Proxy({}, { get() { while (true) {} } })', { cpu_time_limit_ms: 300 });
    expect(['timeout', 'failed']).toContain(result.status);
    expect(result.error?.code).toMatch(/TIMEOUT|GUEST_ERROR/);
  });

  it('reports an error whose message is a throwing Proxy without running host code', async () => {
    const code = `const e = new Error('x');
Object.defineProperty(e, 'message', { get() { return new Proxy({}, { get() { throw new Error('trap') } }) } });
throw e;`;
    const result = await runCode(sandbox, code);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'GUEST_ERROR' } });
  });

  it('survives Proxy-valued host-call arguments', async () => {
    const code = `const trap = new Proxy({}, { get(t, k) { if (k === 'toJSON') return () => { throw new RangeError('no') }; return undefined } });
const out = [];
for (const call of [() => tollgate.read_context(trap), () => tollgate.http_request(trap), () => tollgate.write_result(trap), () => tollgate.log(trap)]) {
  try { await call(); out.push('ok') } catch (e) { out.push(e.name) }
}
return out;`;
    const result = await runCode(sandbox, code, {}, { handlers });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual(['RangeError', 'RangeError', 'RangeError', 'ok']);
  });
});

describe('Promise subclasses with custom species', () => {
  it('cannot confuse the bridge with a species that never settles', async () => {
    const code = `class Evil extends Promise { static get [Symbol.species]() { return function (exec) { exec(() => {}, () => {}); } } }
Object.defineProperty(Promise, Symbol.species, { get() { return Evil } });
Promise.prototype.constructor = Evil;
const v = await tollgate.read_context('k');
return Evil.resolve(v);`;
    const result = await runCode(sandbox, code, {}, { handlers });
    expect(['completed', 'failed']).toContain(result.status);
    expect(result.host_call_audit.map((a) => a.fn)).toEqual(['read_context']);
  });

  it('cannot hijack the bridge by replacing Promise.prototype.then', async () => {
    const code = `const realThen = Promise.prototype.then;
let hijacked = 0;
Promise.prototype.then = function (a, b) { hijacked++; return realThen.call(this, a, b) };
const v = await tollgate.read_context('k');
return { v };`;
    const result = await runCode(sandbox, code, {}, { handlers });
    expect(result).toMatchObject({ status: 'completed', output: { v: { nested: { value: 1 } } } });
  });
});

describe('polluted built-ins, then host calls', () => {
  it('keeps host calls well-formed after JSON, Object, Array and String pollution', async () => {
    const keys: unknown[] = [];
    const code = `JSON.stringify = () => '"forged"';
JSON.parse = () => ({ ok: true, value: 'forged' });
Object.prototype.toJSON = function () { return 'polluted' };
Array.prototype.toJSON = undefined;
Object.defineProperty(Object.prototype, 'ok', { get() { return true }, configurable: true });
String.prototype.toString = () => 'x';
const r = await tollgate.read_context('real-key');
await tollgate.write_result({ r });
return undefined;`;
    const result = await runCode(sandbox, code, {}, { handlers: { read_context: async (key) => { keys.push(key); return 'host-value'; } } });
    expect(result.status).toBe('completed');
    // The bridge captured the C JSON functions before the guest ran; toJSON pollution only changes what the guest sends.
    // The forged JSON.stringify would have sent '"forged"'; the host got the real key.
    expect(keys).toEqual(['real-key']);
    // Object.prototype.toJSON is honoured by JSON itself, so the guest only changed its own output.
    expect(result.output).toBe('polluted');
    expect(result.host_call_audit.every((a) => typeof a.fn === 'string' && typeof a.allowed === 'boolean')).toBe(true);
  });

  it('exposes no raw bridge functions to forge host calls with', async () => {
    const code = `return [typeof __tg_call, typeof globalThis.__tg_log, Object.getOwnPropertyNames(globalThis).filter((n) => n.startsWith('__tg')).length];`;
    const result = await runCode(sandbox, code);
    expect(result.output).toEqual(['undefined', 'undefined', 0]);
  });
});
