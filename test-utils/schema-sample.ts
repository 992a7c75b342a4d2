/**
 * Minimal valid-looking values from a JSON schema (TypeBox schemas are JSON schemas), for generic route tests.
 * Not a full generator: enough to get past validation of typical bodies so handlers run.
 */
type Schema = Record<string, any>;

function sampleString(schema: Schema): string {
  if (schema['format'] === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
  if (schema['format'] === 'uuid') return '00000000-0000-4000-8000-000000000000';
  if (schema['format'] === 'uri' || schema['format'] === 'url') return 'https://example.com/';
  if (schema['format'] === 'email') return 'someone@example.com';
  const min = typeof schema['minLength'] === 'number' ? schema['minLength'] : 1;
  return 'sample-value'.padEnd(min, 'x').slice(0, Math.max(min, Math.min(12, schema['maxLength'] ?? 12)));
}

/**
 * A value that satisfies the common parts of `schema` (required fields, types, enums, consts).
 *
 * @example
 * sampleFromSchema({ type: 'object', required: ['a'], properties: { a: { type: 'string' } } }); // { a: 'sample-value' }
 */
export function sampleFromSchema(schema: Schema | undefined, depth = 0): unknown {
  if (!schema || depth > 8) return null;
  if ('const' in schema) return schema['const'];
  if (Array.isArray(schema['enum'])) return schema['enum'][0];
  if ('default' in schema) return schema['default'];
  const variants = schema['anyOf'] ?? schema['oneOf'];
  if (Array.isArray(variants) && variants.length > 0) return sampleFromSchema(variants[0], depth + 1);
  if (Array.isArray(schema['allOf'])) return Object.assign({}, ...schema['allOf'].map((s: Schema) => sampleFromSchema(s, depth + 1)));
  const type = Array.isArray(schema['type']) ? schema['type'][0] : schema['type'];
  switch (type) {
    case 'object': {
      const result: Record<string, unknown> = {};
      for (const name of (schema['required'] as string[] | undefined) ?? []) {
        result[name] = sampleFromSchema(schema['properties']?.[name], depth + 1);
      }
      return result;
    }
    case 'array': {
      const count = typeof schema['minItems'] === 'number' ? schema['minItems'] : 0;
      return Array.from({ length: count }, () => sampleFromSchema(schema['items'], depth + 1));
    }
    case 'string':
      return sampleString(schema);
    case 'integer':
    case 'number':
      return typeof schema['minimum'] === 'number' ? schema['minimum'] : 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return schema['properties'] ? sampleFromSchema({ ...schema, type: 'object' }, depth) : 'sample-value';
  }
}

/**
 * A value of a different JSON type than `schema` expects.
 *
 * @example
 * wrongTypeFor({ type: 'string' }); // 12345
 */
export function wrongTypeFor(schema: Schema | undefined): unknown {
  const type = Array.isArray(schema?.['type']) ? schema?.['type'][0] : schema?.['type'];
  switch (type) {
    case 'string':
      return 12345;
    case 'number':
    case 'integer':
      return 'not-a-number';
    case 'boolean':
      return 'yes';
    case 'array':
      return { not: 'an array' };
    case 'object':
      return ['not', 'an', 'object'];
    default:
      return { unexpected: [1, 'two', null] };
  }
}

/**
 * Percent-encodes a path segment; strings encodeURIComponent refuses (lone surrogates) become their UTF-8 bytes
 * plus an encoded lone surrogate (`%ED%A0%80`, invalid UTF-8), which is what a hostile client would send.
 */
export function encodeSegment(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return [...Buffer.from(value, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('') + '%ED%A0%80';
  }
}

/** Replaces `:param` (with optional regex) and `*` in a Fastify route URL. */
export function fillPath(url: string, valueFor: (param: string) => string): string {
  return url
    .replace(/:(\w+)(\([^)]*\))?/g, (_match, name: string) => encodeSegment(valueFor(name)))
    .replace(/\*/g, () => encodeSegment(valueFor('*')));
}

/** Names of the path parameters of a Fastify route URL. */
export function pathParams(url: string): string[] {
  return [...url.matchAll(/:(\w+)/g)].map((match) => match[1] as string).concat(url.includes('*') ? ['*'] : []);
}
