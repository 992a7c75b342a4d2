import { TollgateError } from '@tollgate/core';
import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { TollgateApp } from './type-provider.js';

// ajv-formats is CommonJS with a default export; under NodeNext the callable sits on `.default`.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const BASE_OPTIONS: Options = { removeAdditional: false, useDefaults: true, allErrors: false, strict: false };

function createAjv(options: Options): Ajv {
  const ajv = new Ajv({ ...BASE_OPTIONS, ...options });
  addFormats(ajv);
  return ajv;
}

/** Compiles a body schema (strict types, defaults applied); see {@link registerValidation}. */
export type BodyValidatorCompiler = (schema: Record<string, unknown>) => ReturnType<Ajv['compile']>;

function compilerFor(ajv: Ajv): (schema: Record<string, unknown>) => ReturnType<Ajv['compile']> {
  return (schema) => {
    const id = typeof schema['$id'] === 'string' ? schema['$id'] : undefined;
    const existing = id ? ajv.getSchema(id) : undefined;
    return existing ?? ajv.compile(schema);
  };
}

/**
 * Request validation: bodies are validated strictly (no type coercion, extra fields refused where the schema says
 * `additionalProperties: false`), so `"scopes": "admin"` is an error rather than silently becoming `["admin"]`.
 * Querystrings, params and headers are strings on the wire and are coerced to the schema's types. Returns the body
 * compiler Fastify uses, for the direct path (`direct-routes.ts`), which must accept and refuse exactly what the
 * Fastify route does (and finds the route's body schema already compiled in the same Ajv instance).
 */
export function registerValidation(app: TollgateApp): BodyValidatorCompiler {
  const strictBody = compilerFor(createAjv({ coerceTypes: false }));
  const coercing = compilerFor(createAjv({ coerceTypes: 'array' }));
  const compiler: FastifySchemaCompiler<Record<string, unknown>> = ({ schema, httpPart }) =>
    (httpPart === 'body' ? strictBody(schema) : coercing(schema)) as ReturnType<FastifySchemaCompiler<unknown>>;
  app.setValidatorCompiler(compiler);
  // Synchronous (no promise per request) and allocation-free unless something is refused: it runs on every route.
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      assertStorableText(request.params, 'params');
      assertStorableText(request.query, 'querystring');
      assertStorableText(request.body, 'body');
    } catch (error) {
      return done(error as Error);
    }
    done();
  });
  return strictBody;
}

/**
 * Refuses a NUL (U+0000) or an unpaired surrogate in any string or key of a request, and a number beyond the double
 * range (`1e999` parses as Infinity), with 400 VALIDATION_FAILED.
 * PostgreSQL text cannot hold a NUL (the statement fails, and in a batched write it fails every caller's rows of the
 * batch); an unpaired surrogate is stored as U+FFFD there and cannot be put into canonical ledger JSON at all, so the
 * ledger record of the call would be lost. Refusing at the edge keeps both dialects alike. Iterative (bodies are
 * already bounded in size, not in depth).
 *
 * @example
 * assertStorableText({ name: 'a\u0000b' }, 'body'); // throws VALIDATION_FAILED, field body/name
 */
export function assertStorableText(value: unknown, root: string): void {
  if (!holdsUnstorableText(value)) return;
  const found = pathOfUnstorableText(value, root);
  throw found?.number ? nonFiniteNumber(found.path) : unstorableText(found?.path ?? root);
}

/** The hot path: no paths are built unless something is refused. */
function holdsUnstorableText(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string') {
      if (!isStorableText(current)) return true;
    } else if (typeof current === 'number') {
      if (!Number.isFinite(current)) return true;
    } else if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) stack.push(current[i]); // no spread: arrays can be huge
    } else if (typeof current === 'object' && current !== null) {
      for (const key of Object.keys(current)) {
        if (!isStorableText(key)) return true;
        stack.push((current as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

function pathOfUnstorableText(value: unknown, root: string): { path: string; number: boolean } | undefined {
  const stack: Array<[unknown, string]> = [[value, root]];
  while (stack.length > 0) {
    const [current, path] = stack.pop()!;
    if (typeof current === 'string') {
      if (!isStorableText(current)) return { path, number: false };
    } else if (typeof current === 'number') {
      if (!Number.isFinite(current)) return { path, number: true };
    } else if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) stack.push([current[i], `${path}/${i}`]);
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, child] of Object.entries(current)) {
        if (!isStorableText(key)) return { path: `${path}/${key.replace(/[\u0000\ud800-\udfff]/g, '?')}`, number: false };
        stack.push([child, `${path}/${key}`]);
      }
    }
  }
  return undefined;
}

/** `String.prototype.isWellFormed` (ES2024, Node ≥ 20): false when the string holds an unpaired surrogate. */
type MaybeWellFormed = string & { isWellFormed(): boolean };

function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && (text as MaybeWellFormed).isWellFormed();
}

/**
 * A JSON number beyond the double range (`1e999`) parses as ±Infinity, which JSON cannot represent again: canonical
 * JSON (the action hash of a hold, the ledger) writes it as `null`, so `1e999`, `-1e999` and `null` hashed alike and
 * one approval released all three calls, while the approver saw `null` and the tool received infinity.
 */
function nonFiniteNumber(field: string): TollgateError {
  const message = 'must not hold a number beyond the range of a double (it would read as Infinity)';
  return new TollgateError('VALIDATION_FAILED', `${field} ${message}`, { details: [{ field, message }] });
}

function unstorableText(field: string): TollgateError {
  return new TollgateError('VALIDATION_FAILED', `${field} must not contain a NUL character (U+0000) or an unpaired surrogate`, {
    details: [{ field, message: 'must not contain a NUL character (U+0000) or an unpaired surrogate' }],
  });
}
