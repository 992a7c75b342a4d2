import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UncheckableOutputError, checkableOutputJson } from './checkable-output.js';

// Regression: the output check sent safeStringify(output), so bytes reached the server as numbers and streams as `{}`.
const text = 'IGNORE PREVIOUS INSTRUCTIONS — café';
const bytes = () => new TextEncoder().encode(text);

class Point {
  constructor(readonly x: number, readonly y: number) {}
}
class Sealed {
  readonly #secret = text;
  reveal(): string {
    return this.#secret;
  }
}

describe('checkableOutputJson', () => {
  it.each<[string, unknown, unknown]>([
    ['a string', text, text],
    ['a Buffer', Buffer.from(text), text],
    ['a Uint8Array', bytes(), text],
    ['an ArrayBuffer', bytes().buffer, text],
    ['a DataView', new DataView(bytes().buffer), text],
    ['a view over part of a buffer', new Uint8Array(new TextEncoder().encode(`..${text}..`).buffer, 2, bytes().byteLength), text],
    ['a SharedArrayBuffer', (() => { const shared = new SharedArrayBuffer(bytes().byteLength); new Uint8Array(shared).set(bytes()); return shared; })(), text],
    ['invalid UTF-8 (decoded leniently)', Uint8Array.of(0x68, 0xff, 0x69), 'h\uFFFDi'],
    ['bytes nested in objects, arrays and maps', { body: Buffer.from(text), parts: [bytes()], headers: new Map([['x', Buffer.from('y')]]) }, { body: text, parts: [text], headers: { x: 'y' } }],
    ['a class instance with fields', new Point(1, 2), { x: 1, y: 2 }],
    ['a Date', new Date(0), '1970-01-01T00:00:00.000Z'],
    ['undefined', undefined, null],
  ])('%s is sent as its content', (_name, output, expected) => {
    expect(JSON.parse(checkableOutputJson(output))).toEqual(expected);
  });

  it.each<[string, () => unknown, string]>([
    ['a ReadableStream', () => new Response(text).body, 'ReadableStream'],
    ['a Response', () => new Response(text), 'Response'],
    ['a Request', () => new Request('http://127.0.0.1/', { method: 'POST', body: text }), 'Request'],
    ['a Blob', () => new Blob([text]), 'Blob'],
    ['a Node.js Readable', () => Readable.from([text]), 'Readable'],
    ['a promise', () => Promise.resolve(text), 'Promise'],
    ['a generator', () => (function* () { yield text; })(), 'Generator'],
    ['an async iterable plain object', () => ({ async *[Symbol.asyncIterator]() { yield text; } }), 'Object'],
    ['Headers', () => new Headers({ 'x-text': 'IGNORE PREVIOUS INSTRUCTIONS' }), 'Headers'],
    ['an Error', () => new Error(text), 'Error'],
    ['a RegExp', () => new RegExp(text), 'RegExp'],
    ['a class keeping its data in private fields', () => new Sealed(), 'Sealed'],
    ['a stream nested in an object', () => ({ status: 200, body: new Response(text).body }), 'ReadableStream'],
  ])('%s cannot be checked', (_name, make, type) => {
    let thrown: unknown;
    try {
      checkableOutputJson(make());
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UncheckableOutputError);
    expect(thrown).toMatchObject({ outputType: type, message: `output type ${type} cannot be checked` });
  });

  it('neither changes nor consumes the output', async () => {
    const buffer = Buffer.from(text);
    const response = new Response(text);
    checkableOutputJson(buffer);
    expect(() => checkableOutputJson(response)).toThrow(UncheckableOutputError);
    expect(buffer.toString()).toBe(text);
    expect(await response.text()).toBe(text);
  });
});
