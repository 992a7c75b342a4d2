// RFC 8785 JSON Canonicalization Scheme (JCS). ECMAScript's own number serialisation and string
// escaping are exactly what the RFC specifies (it was written that way), so the work left is: sort
// object keys by UTF-16 code units, refuse values JSON cannot carry, and refuse lone surrogates
// (JSON.stringify would escape them as \udxxx, which RFC 8785 section 3.2.2.2 forbids).

/** A value that canonicalises: JSON data, plus objects with `toJSON` (e.g. `Date`). */
export type CanonicalJsonValue = unknown;

const ANY_SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Serialise a value as RFC 8785 canonical JSON. Object properties whose value is `undefined` are
 * omitted (as `JSON.stringify` does); `undefined` elsewhere, functions, symbols, BigInt, NaN, ±Infinity
 * and strings with lone surrogates throw a `TypeError`.
 * @example canonicalJson({ b: 1, a: [true, null, 'x'] }) // '{"a":[true,null,"x"],"b":1}'
 */
export function canonicalJson(value: CanonicalJsonValue): string {
  // Fast path: copy with keys inserted in sorted order, then let JSON.stringify build one flat string
  // (string concatenation in JS made this 5x slower, mostly garbage collection). It cannot be used when
  // an object has array-index keys ("1", "10"): engines enumerate those numerically, not by code unit.
  const copy = sortedCopy(value);
  return copy === SLOW_PATH ? serialise(value) : JSON.stringify(copy);
}

/**
 * Canonical JSON of one string (RFC 8785: JSON.stringify's escaping, lone surrogates refused).
 * @example canonicalJsonString('a"b') // '"a\\"b"'
 */
export function canonicalJsonString(text: string): string {
  if (!isWellFormed(text)) throw new TypeError('canonical JSON cannot carry a lone surrogate');
  return JSON.stringify(text);
}

function isWellFormed(text: string): boolean {
  return !ANY_SURROGATE.test(text) || !LONE_SURROGATE.test(text);
}

const SLOW_PATH: unique symbol = Symbol('slow path');
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

function sortedCopy(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      if (!isWellFormed(value)) throw new TypeError('canonical JSON cannot carry a lone surrogate');
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot carry ${String(value)}`);
      return value;
    case 'boolean':
      return value;
    case 'object':
      return value === null ? null : sortedObjectCopy(value);
    default:
      throw new TypeError(`canonical JSON cannot carry a ${typeof value}`);
  }
}

function sortedObjectCopy(value: object): unknown {
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return sortedCopy(withJson.toJSON());
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const item = sortedCopy(value[i]);
      if (item === SLOW_PATH) return SLOW_PATH;
      out[i] = item;
    }
    return out;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (record[key] === undefined) continue;
    const first = key.charCodeAt(0);
    if ((first >= 48 && first <= 57 && ARRAY_INDEX.test(key)) || !isWellFormed(key)) return SLOW_PATH;
    const member = sortedCopy(record[key]);
    if (member === SLOW_PATH) return SLOW_PATH;
    // An own "__proto__" key (JSON.parse makes one) assigned with `=` would set the copy's prototype instead,
    // and JSON.stringify would drop it: two records differing only by it would hash the same.
    if (key === '__proto__') Object.defineProperty(out, key, { value: member, enumerable: true, writable: true, configurable: true });
    else out[key] = member;
  }
  return out;
}

// Hot path (every ledger append): no path bookkeeping, cheap checks first; errors name the offending key.
function serialise(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return serialiseString(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot carry ${String(value)}`);
      // ECMAScript's shortest round-trip form is what RFC 8785 section 3.2.2.3 adopts (-0 prints as 0).
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return value === null ? 'null' : serialiseObject(value);
    default:
      throw new TypeError(`canonical JSON cannot carry a ${typeof value}`);
  }
}

function serialiseString(value: string): string {
  if (ANY_SURROGATE.test(value) && LONE_SURROGATE.test(value)) {
    throw new TypeError('canonical JSON cannot carry a lone surrogate');
  }
  return JSON.stringify(value);
}

function serialiseObject(value: object): string {
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return serialise(withJson.toJSON());
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + serialise(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, which is the order RFC 8785 section 3.2.3 requires.
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    try {
      out += (out.length === 1 ? '' : ',') + serialiseString(key) + ':' + serialise(member);
    } catch (error) {
      throw error instanceof TypeError && !error.message.includes(' at ') ? new TypeError(`${error.message} at ${key}`) : error;
    }
  }
  return `${out}}`;
}
