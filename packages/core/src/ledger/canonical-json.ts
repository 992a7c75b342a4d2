// RFC 8785 JSON Canonicalization Scheme (JCS). ECMAScript's own number serialisation and string
// escaping are exactly what the RFC specifies (it was written that way), so the work left is: sort
// object keys by UTF-16 code units, refuse values JSON cannot carry, and refuse lone surrogates
// (JSON.stringify would escape them as \udxxx, which RFC 8785 section 3.2.2.2 forbids).

/** A value that canonicalises: JSON data, plus objects with `toJSON` (e.g. `Date`). */
export type CanonicalJsonValue = unknown;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Serialise a value as RFC 8785 canonical JSON. Object properties whose value is `undefined` are
 * omitted (as `JSON.stringify` does); `undefined` elsewhere, functions, symbols, BigInt, NaN, ±Infinity
 * and strings with lone surrogates throw a `TypeError`.
 * @example canonicalJson({ b: 1, a: [true, null, 'x'] }) // '{"a":[true,null,"x"],"b":1}'
 */
export function canonicalJson(value: CanonicalJsonValue): string {
  return serialise(value, 'value');
}

function serialise(value: unknown, where: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return serialiseNumber(value, where);
    case 'string':
      return serialiseString(value, where);
    case 'object':
      return serialiseObject(value, where);
    default:
      throw new TypeError(`canonical JSON cannot carry a ${typeof value} at ${where}`);
  }
}

function serialiseNumber(value: number, where: string): string {
  if (!Number.isFinite(value)) {
    throw new TypeError(`canonical JSON cannot carry ${String(value)} at ${where}`);
  }
  // Number → string is ECMAScript's shortest round-trip form, which RFC 8785 section 3.2.2.3 adopts;
  // -0 prints as 0 there too.
  return JSON.stringify(value);
}

function serialiseString(value: string, where: string): string {
  if (LONE_SURROGATE.test(value)) {
    throw new TypeError(`canonical JSON cannot carry a lone surrogate at ${where}`);
  }
  return JSON.stringify(value);
}

function serialiseObject(value: object, where: string): string {
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') {
    return serialise(withJson.toJSON(), where);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item, index) => serialise(item, `${where}[${index}]`)).join(',')}]`;
  }
  const record = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, which is the order RFC 8785 section 3.2.3 requires.
  const keys = Object.keys(record).filter((key) => record[key] !== undefined).sort();
  const members = keys.map(
    (key) => `${serialiseString(key, where)}:${serialise(record[key], `${where}.${key}`)}`,
  );
  return `{${members.join(',')}}`;
}
