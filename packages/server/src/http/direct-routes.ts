import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { statusForCode, type ErrorCode } from '@tollgate/core';
import fastJsonStringify from 'fast-json-stringify';
import type { FastifyServerFactory } from 'fastify';
import type { Logger } from 'pino';
import { parse as secureJsonParse } from 'secure-json-parse';
import { hasScope, type AuthContext, type AuthResult, type KeyService, type Scope } from '../services/keys/index.js';
import { FAILURE_MESSAGES } from './auth.js';
import { errorAnswer, errorEnvelope, retryAfterHeader } from './errors.js';
import type { HttpMetricsTagger } from './metrics.js';
import { assertStorableText, type BodyValidatorCompiler } from './validation.js';
import type { TollgateApp } from './type-provider.js';

/**
 * What a route serves on the direct path: called with the authenticated caller and, for POST, the parsed and
 * validated body. Throw a `TollgateError` to answer with its envelope, as in a Fastify handler.
 */
export type DirectHandler = (auth: AuthContext, body: unknown) => unknown;

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Also serve this route on the direct path (see `http/direct-routes.ts`): the hot routes' ordinary requests
     * skip Fastify's per-request machinery; everything unusual still goes through Fastify.
     */
    direct?: DirectHandler;
  }
}

/** The request-id rule of app.ts: a client's `X-Request-Id` value is reused when it looks like one. */
export type RequestIdFrom = (header: string | undefined) => string;

interface DirectRoute {
  readonly method: string;
  /** The route's HTTP metrics series, looked up on first use. */
  series: unknown;
  readonly handler: DirectHandler;
  readonly scope: Scope | undefined;
  readonly anyScope: boolean;
  readonly url: string;
  readonly validate: ((body: unknown) => boolean) & { errors?: unknown[] | null };
  readonly serializers: ReadonlyMap<number, (value: unknown) => string>;
}

/** One request on the direct path. */
interface Exchange {
  readonly route: DirectRoute;
  readonly response: ServerResponse;
  readonly requestId: string;
  /** performance.now() when the request reached the listener. */
  readonly started: number;
  readonly metrics: HttpMetricsTagger;
}

/** Options of {@link DirectRoutes}. */
export interface DirectRoutesOptions {
  /** Off: every request goes through Fastify (`TOLLGATE_HTTP_DIRECT_ROUTES=false`). */
  readonly enabled: boolean;
  readonly bodyLimit: number;
  readonly logger: Logger;
  readonly requestIdFrom: RequestIdFrom;
}

/** The services the direct path needs once the app is built. */
export interface DirectRoutesDeps {
  readonly keys: KeyService;
  readonly metrics: HttpMetricsTagger;
}

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** What {@link scanHeaders} read; one object reused (the scan and its use are synchronous). */
interface SeenHeaders {
  /** The header value holding the key, read from `tokenStart` (7 for `Bearer `): no substring per request. */
  token: string | undefined;
  tokenStart: number;
  contentLength: string | undefined;
  contentType: string | undefined;
  requestId: string | undefined;
}
const seenHeaders: SeenHeaders = { token: undefined, tokenStart: 0, contentLength: undefined, contentType: undefined, requestId: undefined };

/**
 * The headers the direct path needs, read from Node's raw header list; undefined (leave the request to Fastify)
 * when any of them repeats, when a body is chunked or encoded, or when the key is presented in anything but the
 * plain form (`Authorization: Bearer <key>` and/or `X-API-Key: <key>`, the same key if both): Fastify's auth
 * hook decides those (conflicting keys, odd spacing), exactly as before.
 */
function scanHeaders(raw: readonly string[]): SeenHeaders | undefined {
  let authorization: string | undefined;
  let apiKey: string | undefined;
  let contentLength: string | undefined;
  let contentType: string | undefined;
  let requestId: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    switch (name.length) {
      case 9:
        if (name.toLowerCase() !== 'x-api-key') break;
        if (apiKey !== undefined) return undefined;
        apiKey = value;
        break;
      case 12:
        if (name.toLowerCase() !== 'content-type' && name.toLowerCase() !== 'x-request-id') break;
        if (name.toLowerCase() === 'content-type') {
          if (contentType !== undefined) return undefined;
          contentType = value;
        } else {
          if (requestId !== undefined) return undefined;
          requestId = value;
        }
        break;
      case 13:
        if (name.toLowerCase() !== 'authorization') break;
        if (authorization !== undefined) return undefined;
        authorization = value;
        break;
      case 14:
        if (name.toLowerCase() !== 'content-length') break;
        if (contentLength !== undefined) return undefined;
        contentLength = value;
        break;
      case 16:
        if (name.toLowerCase() === 'content-encoding') return undefined;
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') return undefined;
        break;
      default:
        break;
    }
  }
  let token: string | undefined;
  let tokenStart = 0;
  if (authorization !== undefined) {
    if (!authorization.startsWith('Bearer ') || !isBareToken(authorization, 7)) return undefined;
    token = authorization;
    tokenStart = 7;
  }
  if (apiKey !== undefined) {
    if (!isBareToken(apiKey, 0) || (token !== undefined && token.slice(tokenStart) !== apiKey)) return undefined;
    token = apiKey;
    tokenStart = 0;
  }
  seenHeaders.token = token;
  seenHeaders.tokenStart = tokenStart;
  seenHeaders.contentLength = contentLength;
  seenHeaders.contentType = contentType;
  seenHeaders.requestId = requestId;
  return seenHeaders;
}

/** True when `value` from `start` is non-empty printable ASCII without spaces (what an API key is). */
function isBareToken(value: string, start: number): boolean {
  if (value.length <= start) return false;
  for (let i = start; i < value.length; i += 1) {
    const code = value.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f) return false;
  }
  return true;
}

/** `content-type` values the direct path reads a body of; anything else (other charsets, parameters) goes to Fastify. */
function isPlainJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  if (contentType.length === 16) return contentType.toLowerCase() === 'application/json';
  return contentType.toLowerCase().replace(/\s+/g, '') === 'application/json;charset=utf-8';
}

/**
 * The direct path for the hottest routes (`POST /v1/enforce`, `GET /api/v1/auth/whoami`).
 *
 * Fastify costs a few microseconds per request in hooks, its request and reply objects, and its router: on a route
 * that does little else, that is a third of the server's time. A route that declares `config.direct` is also
 * served here, before Fastify sees the request, when the request is ordinary: the exact path with no query string,
 * a key that authenticates from the cache with the route's scope, and (POST) a JSON body with a `content-length`
 * within the body limit. Everything else (a missing, unknown, uncached or conflicting key, a lacking scope, another
 * content type, chunked or encoded bodies, a server that is closing) goes to Fastify untouched, which answers it
 * exactly as before. What both paths share is the same code: the route's handler, its body schema (compiled by
 * Fastify's own Ajv instance), the NUL/surrogate check, Fastify's JSON parser (`secure-json-parse` refusing `__proto__`
 * and `constructor.prototype`), the route's response schemas (`fast-json-stringify`), the error envelope and its
 * classification, the request id, the HTTP metrics, and the "incoming request"/"request completed" log lines.
 * A test sends the same requests to a server with and without the direct path and compares the answers.
 *
 * @example
 * const direct = new DirectRoutes({ enabled: true, bodyLimit, logger, requestIdFrom });
 * const app = Fastify({ serverFactory: direct.serverFactory });
 * direct.collect(app, registerValidation(app));
 * direct.attach({ keys, metrics });
 */
export class DirectRoutes {
  readonly #get = new Map<string, DirectRoute>();
  readonly #post = new Map<string, DirectRoute>();
  readonly #options: DirectRoutesOptions;
  #deps: DirectRoutesDeps | undefined;
  #closing = false;
  #served = 0;

  constructor(options: DirectRoutesOptions) {
    this.#options = options;
  }

  /** Requests answered on the direct path so far (exported as `tollgate_http_direct_requests_total`). */
  get served(): number {
    return this.#served;
  }

  /**
   * Collects the routes that declare `config.direct`; call before routes are registered, with the body compiler
   * Fastify validates with (`registerValidation`'s).
   */
  collect(app: TollgateApp, compileBody: BodyValidatorCompiler): void {
    app.addHook('onRoute', (route) => {
      const handler = route.config?.direct;
      if (!handler || route.url.includes(':') || route.url.includes('*')) return;
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const schema = (route.schema ?? {}) as { body?: Record<string, unknown>; response?: Record<string, Record<string, unknown>> };
      const serializers = new Map<number, (value: unknown) => string>();
      for (const [status, responseSchema] of Object.entries(schema.response ?? {})) {
        serializers.set(Number(status), fastJsonStringify(responseSchema) as (value: unknown) => string);
      }
      const validate = schema.body ? compileBody(schema.body) : Object.assign(() => true, { errors: null });
      for (const method of methods) {
        if (method !== 'GET' && method !== 'POST') continue;
        (method === 'GET' ? this.#get : this.#post).set(route.url, {
          method,
          series: undefined,
          handler,
          scope: route.config?.scope,
          anyScope: route.config?.anyScope === true,
          url: route.url,
          validate: validate as DirectRoute['validate'],
          serializers,
        });
      }
    });
    app.addHook('preClose', (done) => {
      this.#closing = true;
      done();
    });
  }

  /** Supplies the services; until then every request goes to Fastify. */
  attach(deps: DirectRoutesDeps): void {
    this.#deps = deps;
  }

  /**
   * Fastify `serverFactory`: the HTTP server Fastify would create (same timeouts), with the direct path in front
   * of Fastify's handler.
   */
  readonly serverFactory: FastifyServerFactory = (fastifyHandler, opts) => {
    const options = opts as { http?: object; keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number; maxRequestsPerSocket?: number };
    const server: Server = createHttpServer(options.http ?? {}, (request, response) => {
      if (this.#tryServe(request, response)) return;
      this.#deps?.metrics.begin(response);
      fastifyHandler(request, response);
    });
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    server.setTimeout(options.connectionTimeout ?? 0);
    if (options.maxRequestsPerSocket !== undefined && options.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    return server;
  };

  /** True when the request was taken (answered or being answered) by the direct path. */
  #tryServe(request: IncomingMessage, response: ServerResponse): boolean {
    const deps = this.#deps;
    if (!this.#options.enabled || deps === undefined || this.#closing) return false;
    const method = request.method;
    const routes = method === 'POST' ? this.#post : method === 'GET' ? this.#get : undefined;
    const url = request.url;
    if (routes === undefined || url === undefined) return false;
    const route = routes.get(url);
    if (route === undefined) return false;
    // Read from the raw header list: building `request.headers` costs more than everything else here.
    const seen = scanHeaders(request.rawHeaders);
    if (seen === undefined) return false;
    if (method === 'POST') {
      if (seen.contentLength === undefined || !isPlainJson(seen.contentType)) return false;
      const bytes = Number(seen.contentLength);
      if (!(bytes > 0 && bytes <= this.#options.bodyLimit)) return false;
    } else if (seen.contentLength !== undefined) {
      return false;
    }
    const token = seen.token;
    if (token === undefined) return false;
    const result = deps.keys.authenticateFromCache(token, seen.tokenStart);
    if (result === undefined || !result.ok) return false;
    if (!route.anyScope && !hasScope(result.auth.scopes, route.scope ?? 'admin')) return false;
    this.#served += 1;
    route.series ??= deps.metrics.seriesOf(route.method, route.url);
    const exchange: Exchange = { route, response, requestId: this.#options.requestIdFrom(seen.requestId), started: performance.now(), metrics: deps.metrics };
    this.#serve(exchange, result.auth, request, token, seen.tokenStart);
    return true;
  }

  #serve(exchange: Exchange, auth: AuthContext, request: IncomingMessage, token: string, tokenStart: number): void {
    const logger = this.#options.logger;
    if (logger.isLevelEnabled('info')) {
      const { requestId, response, started } = exchange;
      const socket = request.socket;
      logger.info({ reqId: requestId, req: { method: request.method, url: request.url, host: request.headers.host, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort } }, 'incoming request');
      response.once('finish', () => {
        logger.info({ reqId: requestId, res: { statusCode: response.statusCode }, responseTime: performance.now() - started }, 'request completed');
      });
    }
    if (request.method === 'GET') {
      this.#answer(exchange, auth, undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    });
    request.once('end', () => {
      // Node's parser stops at content-length, which was checked against the body limit above.
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, received).toString('utf8');
      let body: unknown;
      try {
        body = secureJsonParse(text, { protoAction: 'error', constructorAction: 'error' });
      } catch {
        this.#sendError(exchange, 'INVALID_JSON', "Body is not valid JSON but content-type is set to 'application/json'");
        return;
      }
      // Fastify's order: the preValidation hook (NUL and unpaired surrogates, validation.ts), then the schema.
      try {
        assertStorableText(body, 'body');
      } catch (error) {
        this.#sendThrown(exchange, error);
        return;
      }
      const validate = exchange.route.validate;
      if (!validate(body)) {
        this.#sendThrown(exchange, Object.assign(new Error('validation'), { validation: validate.errors ?? [], validationContext: 'body' }));
        return;
      }
      // The key was checked when the headers arrived; the body may have come much later. A key revoked in between
      // does not complete the request (the Fastify path's recheck hook in auth.ts, here).
      const again = this.#deps?.keys.authenticateFromCache(token, tokenStart);
      if (again !== undefined) {
        this.#answerIfStanding(exchange, auth, body, again);
        return;
      }
      const keys = this.#deps?.keys;
      if (keys === undefined) {
        this.#sendError(exchange, 'UNAUTHENTICATED', 'Invalid API key while the request was being received');
        return;
      }
      keys.authenticate(token.slice(tokenStart)).then(
        (result) => this.#answerIfStanding(exchange, auth, body, result),
        (error: unknown) => this.#sendThrown(exchange, error),
      );
    });
    // An aborted upload: Node destroys the socket; nothing to answer.
    request.once('error', () => undefined);
  }

  #answerIfStanding(exchange: Exchange, auth: AuthContext, body: unknown, now: AuthResult): void {
    if (now.ok && now.auth.keyId === auth.keyId) {
      this.#answer(exchange, auth, body);
      return;
    }
    const why = now.ok ? 'API key changed' : FAILURE_MESSAGES[now.reason];
    this.#sendError(exchange, 'UNAUTHENTICATED', `${why} while the request was being received`);
  }

  #answer(exchange: Exchange, auth: AuthContext, body: unknown): void {
    let result: unknown;
    try {
      result = exchange.route.handler(auth, body);
    } catch (error) {
      this.#sendThrown(exchange, error);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (value) => this.#sendResult(exchange, value),
        (error: unknown) => this.#sendThrown(exchange, error),
      );
      return;
    }
    this.#sendResult(exchange, result);
  }

  #sendResult(exchange: Exchange, value: unknown): void {
    this.#send(exchange, 200, exchange.route.serializers.get(200)?.(value) ?? JSON.stringify(value));
  }

  /** The error handler of errors.ts, on the direct path. */
  #sendThrown(exchange: Exchange, error: unknown): void {
    const logger = this.#options.logger;
    const reqId = exchange.requestId;
    const { status, envelope } = errorAnswer(error, reqId, {
      error: (fields, message) => logger.error({ reqId, ...fields }, message),
      debug: (fields, message) => logger.debug({ reqId, ...fields }, message),
    });
    this.#sendEnvelope(exchange, status, envelope);
  }

  #sendError(exchange: Exchange, code: ErrorCode, message: string): void {
    this.#sendEnvelope(exchange, statusForCode(code), errorEnvelope(code, message, exchange.requestId));
  }

  #sendEnvelope(exchange: Exchange, status: number, envelope: ReturnType<typeof errorEnvelope>): void {
    const payload = exchange.route.serializers.get(status)?.(envelope) ?? JSON.stringify(envelope);
    this.#send(exchange, status, payload, retryAfterHeader(status, envelope.error.details));
  }

  #send(exchange: Exchange, status: number, payload: string, retryAfter?: string): void {
    const { response } = exchange;
    if (response.headersSent || response.destroyed) return;
    const headers: Record<string, string | number> = { 'x-request-id': exchange.requestId, 'content-type': JSON_CONTENT_TYPE, 'content-length': Buffer.byteLength(payload) };
    if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
    response.writeHead(status, headers);
    response.end(payload);
    exchange.metrics.record(exchange.route.series, status, (performance.now() - exchange.started) / 1000);
  }
}

