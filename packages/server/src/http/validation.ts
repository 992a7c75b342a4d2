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
 * Querystrings, params and headers are strings on the wire and are coerced to the schema's types.
 */
export function registerValidation(app: TollgateApp): void {
  const strictBody = compilerFor(createAjv({ coerceTypes: false }));
  const coercing = compilerFor(createAjv({ coerceTypes: 'array' }));
  const compiler: FastifySchemaCompiler<Record<string, unknown>> = ({ schema, httpPart }) =>
    (httpPart === 'body' ? strictBody(schema) : coercing(schema)) as ReturnType<FastifySchemaCompiler<unknown>>;
  app.setValidatorCompiler(compiler);
}
