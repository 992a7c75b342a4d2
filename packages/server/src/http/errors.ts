import { isTollgateError, statusForCode, type ErrorCode } from '@tollgate/core';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { TollgateApp } from './type-provider.js';

/** The one error envelope on the wire. */
export const ErrorEnvelopeSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code (see docs/api.md)' }),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
      requestId: Type.String(),
    }),
  },
  { $id: 'ErrorEnvelope', title: 'ErrorEnvelope' },
);
export type ErrorEnvelope = Static<typeof ErrorEnvelopeSchema>;

/**
 * The 429 response of a route that can be rate limited: the error envelope plus the `Retry-After` header, so
 * `/openapi.json` documents both. (Its own schema without `$id`: the description and header differ from the shared one.)
 *
 * @example
 * app.post('/x', { schema: { response: { 200: Ok, 429: RateLimitedResponseSchema } } }, handler);
 */
export const RateLimitedResponseSchema = Type.Object(ErrorEnvelopeSchema.properties, {
  title: 'ErrorEnvelope',
  description: 'RATE_LIMITED: a quota is used up; details.retryAfter and the Retry-After header say when to retry',
  headers: {
    'Retry-After': { type: 'integer', minimum: 1, description: 'Seconds to wait before retrying (rounded up)' },
  },
});

interface ClassifiedError {
  status: number;
  code: ErrorCode;
  message: string;
  details?: unknown;
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
};

const STATUS_CODES: Record<number, ErrorCode> = {
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
};

/**
 * One detail per problem, naming the field. A field that must be one of several values (a union of literals: Ajv
 * reports "must be equal to constant" once per value, then "must match a schema in anyOf") becomes one detail listing
 * the values.
 */
function validationDetails(error: FastifyError) {
  const issues = error.validation ?? [];
  const allowed = new Map<string, string[]>();
  const otherKeywords = new Set<string>();
  for (const issue of issues) {
    const params = issue.params as Record<string, unknown>;
    if (issue.keyword === 'const') allowed.set(issue.instancePath, [...(allowed.get(issue.instancePath) ?? []), JSON.stringify(params['allowedValue'])]);
    else if (issue.keyword !== 'anyOf') otherKeywords.add(issue.instancePath);
  }
  const details: Array<{ field: string; message: string }> = [];
  const listed = new Set<string>();
  for (const issue of issues) {
    const params = issue.params as Record<string, unknown>;
    const extra = typeof params['missingProperty'] === 'string' ? `/${params['missingProperty']}` : typeof params['additionalProperty'] === 'string' ? `/${params['additionalProperty']}` : '';
    const field = `${error.validationContext ?? 'body'}${issue.instancePath}${extra}`;
    const values = allowed.get(issue.instancePath);
    if (values !== undefined && (issue.keyword === 'const' || (issue.keyword === 'anyOf' && !otherKeywords.has(issue.instancePath)))) {
      if (!listed.has(issue.instancePath)) details.push({ field, message: `must be one of ${values.join(', ')}` });
      listed.add(issue.instancePath);
      continue;
    }
    const message = issue.keyword === 'enum' && Array.isArray(params['allowedValues'])
      ? `must be one of ${(params['allowedValues'] as unknown[]).map((value) => JSON.stringify(value)).join(', ')}`
      : issue.message ?? 'is invalid';
    details.push({ field, message });
  }
  return details;
}

/** Maps any thrown value to status, code, message and details, without leaking internals of 5xx errors. */
export function classifyError(error: unknown): ClassifiedError {
  if (isTollgateError(error)) {
    return { status: statusForCode(error.code), code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) };
  }
  const fastifyError = error as Partial<FastifyError> & { status?: number };
  if (fastifyError.validation) {
    const details = validationDetails(fastifyError as FastifyError);
    const first = details[0];
    const message = first ? `${first.field} ${first.message}` : 'Request validation failed';
    return { status: 400, code: 'VALIDATION_FAILED', message, details };
  }
  const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  const status = fastifyError.statusCode ?? fastifyError.status ?? 500;
  if (mapped) return { status: statusForCode(mapped), code: mapped, message: fastifyError.message ?? mapped };
  if (status === 400 && error instanceof SyntaxError) return { status, code: 'INVALID_JSON', message: 'Body is not valid JSON' };
  if (status >= 400 && status < 500) {
    return { status, code: STATUS_CODES[status] ?? 'BAD_REQUEST', message: fastifyError.message ?? 'Bad request' };
  }
  return { status: 500, code: 'INTERNAL', message: 'Internal server error' };
}

/**
 * Builds the wire envelope.
 *
 * @example
 * reply.code(404).send(errorEnvelope('NOT_FOUND', 'Key not found', request.id));
 */
export function errorEnvelope(code: ErrorCode, message: string, requestId: string, details?: unknown): ErrorEnvelope {
  return { error: { code, message, ...(details === undefined ? {} : { details }), requestId } };
}

/**
 * Sends an error envelope with the status registered for `code`.
 *
 * @example
 * return sendError(reply, request, 'FORBIDDEN', 'Missing scope policies');
 */
export function sendError(reply: FastifyReply, request: FastifyRequest, code: ErrorCode, message: string, details?: unknown) {
  return sendEnvelope(reply, statusForCode(code), errorEnvelope(code, message, request.id, details));
}

/** Statuses for which `Retry-After` means "try again later" (RFC 9110 §10.2.3 also allows it on 3xx, unused here). */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

/**
 * The `Retry-After` value (delta-seconds, an integer ≥ 1, rounded up) for an error whose `details.retryAfter` says
 * when to retry. By convention `details.retryAfter` is in **seconds** (the executions-per-hour quota sets it so);
 * a fraction is rounded up so a client never retries early. Undefined when the status or details carry no hint.
 *
 * @example
 * retryAfterHeader(429, { retryAfter: 2.2 }); // '3'
 * retryAfterHeader(400, { retryAfter: 5 });   // undefined
 */
export function retryAfterHeader(status: number, details: unknown): string | undefined {
  if (!RETRY_AFTER_STATUSES.has(status) || details === null || typeof details !== 'object') return undefined;
  const seconds = (details as { retryAfter?: unknown }).retryAfter;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return undefined;
  return String(Math.max(1, Math.ceil(seconds)));
}

/** Every error response leaves through here, so the `Retry-After` header is set in one place. */
function sendEnvelope(reply: FastifyReply, status: number, envelope: ErrorEnvelope) {
  const retryAfter = retryAfterHeader(status, envelope.error.details);
  if (retryAfter !== undefined) reply.header('retry-after', retryAfter);
  return reply.code(status).send(envelope);
}

/** Installs the error and not-found handlers that make every failure an envelope. */
/**
 * Marks an answer to a session-authenticated request (what the dashboard reads: approvals with tool arguments, audit
 * records, key lists, the secret of a new key) as never stored in the browser's cache, where it would outlive sign-out
 * on a shared machine, nor sniffed into another type. Set before the route runs, so a route that chooses its own
 * Cache-Control (the built files) still wins. Called by the auth hook only for cookie-authenticated requests (API-key
 * traffic pays nothing for it) and by the not-found handler for requests carrying the session cookie.
 *
 * @example
 * markSessionAnswer(reply);
 */
export function markSessionAnswer(reply: FastifyReply): void {
  reply.header('cache-control', 'no-store');
  reply.header('x-content-type-options', 'nosniff');
}

/** The logger calls {@link errorAnswer} makes (a request's logger, or the direct path's with the request id). */
export interface ErrorLog {
  error(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

/**
 * What the server answers for a thrown error: its status and envelope, logged as the error handler logs it (5xx as
 * errors with the cause, the rest at debug). Shared by Fastify's error handler and the direct path.
 *
 * @example
 * const { status, envelope } = errorAnswer(error, request.id, request.log);
 */
export function errorAnswer(error: unknown, requestId: string, log: ErrorLog): { status: number; envelope: ErrorEnvelope } {
  const classified = classifyError(error);
  if (classified.status >= 500) log.error({ err: error }, 'request failed');
  else log.debug({ code: classified.code }, classified.message);
  return { status: classified.status, envelope: errorEnvelope(classified.code, classified.message, requestId, classified.details) };
}

/** A route's path pattern as a regular expression (`:param` = one segment); undefined for wildcard routes. */
function pathPattern(url: string): RegExp | undefined {
  if (url.includes('*')) return undefined;
  const source = url.split('/').map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/');
  return new RegExp(`^${source}/?$`);
}

export function registerErrorHandling(app: TollgateApp): void {
  // Which methods each path answers, for 405 (a path that exists, asked with another method) instead of 404.
  const routes: Array<{ method: string; pattern: RegExp }> = [];
  app.addHook('onRoute', (route) => {
    const pattern = pathPattern(route.url);
    if (pattern === undefined) return;
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) routes.push({ method, pattern });
  });
  app.setErrorHandler((error, request, reply) => {
    const { status, envelope } = errorAnswer(error, request.id, request.log);
    return sendEnvelope(reply, status, envelope);
  });
  app.setNotFoundHandler((request, reply) => {
    // A browser holding a dashboard session gets the same no-store/nosniff answer as on every route it reads
    // (markSessionAnswer above); unmatched routes run no auth hook.
    if (request.headers.cookie?.includes('tollgate_session=')) markSessionAnswer(reply);
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...new Set(routes.filter((route) => route.pattern.test(path)).map((route) => route.method))];
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      reply.header('allow', allowed.join(', '));
      return sendError(reply, request, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path.slice(0, 200)}; allowed: ${allowed.join(', ')}`);
    }
    return sendError(reply, request, 'NOT_FOUND', `Route ${request.method} ${path.slice(0, 200)} not found`);
  });
}
