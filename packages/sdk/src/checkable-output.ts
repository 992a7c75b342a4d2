import { safeStringify } from './redaction.js';

/**
 * Types whose content is not in their own enumerable properties and cannot be read without consuming or awaiting
 * them (matched by `Symbol.toStringTag`, so subclasses and copies from other realms are caught too).
 */
const UNREADABLE_TAGS = new Set(['ReadableStream', 'WritableStream', 'TransformStream', 'Response', 'Request', 'Blob', 'File', 'FormData', 'Promise']);

/** An output (or a value inside it) the SDK cannot hand to `/v1/enforce/output` with its content. */
export class UncheckableOutputError extends Error {
  /** The type found, e.g. `ReadableStream`. */
  readonly outputType: string;

  constructor(outputType: string) {
    super(`output type ${outputType} cannot be checked`);
    this.name = 'UncheckableOutputError';
    this.outputType = outputType;
  }
}

/**
 * The JSON text of a tool's output as the output check must see it: bytes (`Buffer`, typed arrays, `DataView`,
 * `ArrayBuffer`), at any depth, become their UTF-8 text (decoded leniently: the scan needs the text, not an exact
 * copy), everything else the JSON form `safeStringify` gives. Throws {@link UncheckableOutputError} for a value whose
 * JSON form would lose its content: a stream, `Response`, `Blob`, promise, iterator, or any other non-plain object
 * without own enumerable properties (an `Error`, a `RegExp`, a class keeping its data in private fields).
 * The output itself is never changed or consumed.
 * @example
 * checkableOutputJson({ body: Buffer.from('hi') }); // '{"body":"hi"}'
 * checkableOutputJson(new Response('hi'));          // throws UncheckableOutputError ('Response')
 */
export function checkableOutputJson(output: unknown): string {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  return safeStringify(output ?? null, (value) => {
    if (value === null || typeof value !== 'object') return value;
    const bytes = bytesOf(value);
    if (bytes) return decoder.decode(bytes);
    const unreadable = unreadableType(value);
    if (unreadable !== undefined) throw new UncheckableOutputError(unreadable);
    return value;
  });
}

function bytesOf(value: object): Uint8Array | undefined {
  if (ArrayBuffer.isView(value)) return copyBytes(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && value instanceof SharedArrayBuffer)) return copyBytes(value, 0, value.byteLength);
  return undefined;
}

/** A copy: TextDecoder refuses views of a SharedArrayBuffer, and another thread could change one while it is decoded. */
function copyBytes(buffer: ArrayBufferLike, offset: number, length: number): Uint8Array {
  return new Uint8Array(buffer, offset, length).slice();
}

/** The type name of a value whose JSON form loses its content, or undefined when the JSON form holds it. */
function unreadableType(value: object): string | undefined {
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
  if (Array.isArray(value) || value instanceof Map || value instanceof Set) return undefined;
  if (value instanceof Number || value instanceof String || value instanceof Boolean) return undefined;
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  const candidate = value as { then?: unknown; [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown };
  const pending = typeof candidate.then === 'function' || typeof candidate[Symbol.iterator] === 'function' || typeof candidate[Symbol.asyncIterator] === 'function';
  if (pending || UNREADABLE_TAGS.has(tag)) return typeName(value, tag);
  const prototype = Object.getPrototypeOf(value) as object | null;
  // A plain object, also one made in another realm (whose Object.prototype is another object).
  if (prototype === null || Object.getPrototypeOf(prototype) === null) return undefined;
  return Object.keys(value).length === 0 ? typeName(value, tag) : undefined;
}

function typeName(value: object, tag: string): string {
  if (tag !== 'Object') return tag;
  const constructor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof constructor?.name === 'string' && constructor.name !== '' ? constructor.name : 'Object';
}
