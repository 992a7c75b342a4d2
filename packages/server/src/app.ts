import { randomBytes } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '@tollgate/core';
import Fastify, { type FastifyBaseLogger, type FastifyReply, type FastifySchema } from 'fastify';
import type { Logger } from 'pino';
import type { TollgateConfig } from './config.js';
import { registerAuth } from './http/auth.js';
import { KeyRateLimiter } from './http/key-rate-limit.js';
import { classifyError, errorEnvelope, registerErrorHandling } from './http/errors.js';
import { createLogger } from './http/logger.js';
import { lazyChildLoggerFactory } from './http/lazy-logger.js';
import { registerHttpMetrics } from './http/metrics.js';
import { DirectRoutes } from './http/direct-routes.js';
import { registerOpenApi } from './http/openapi.js';
import { registerValidation } from './http/validation.js';
import { registerKeyRoutes } from './http/routes/keys.js';
import { registerEnforceRoutes } from './http/routes/enforce.js';
import { registerApprovalRoutes } from './http/routes/approvals.js';
import { registerPolicyRoutes } from './http/routes/policies.js';
import { registerKillSwitchRoutes } from './http/routes/kill-switch.js';
import { registerAuditRoutes } from './http/routes/audit.js';
import { registerEventRoutes } from './http/routes/events.js';
import { registerSiteRoutes } from './http/routes/site.js';
import { registerDashboardRoutes } from './http/routes/dashboard.js';
import { createSessionAuthenticator, registerSessionRoutes } from './http/routes/session.js';
import { registerSystemRoutes } from './http/routes/system.js';
import { registerTenantRoutes } from './http/routes/tenants.js';
import { registerSdkAgentRoutes } from './http/routes/sdk-agents.js';
import { registerExecutionRoutes } from './http/routes/executions.js';
import { registerCredentialRoutes } from './http/routes/credentials.js';
import { registerPermissionRequestRoutes } from './http/routes/permission-requests.js';
import { registerSafetyRoutes } from './http/routes/safety.js';
import { registerComplianceRoutes } from './http/routes/compliance.js';
import type { TollgateApp, TypeBoxTypeProvider } from './http/type-provider.js';
import type { Bus } from './services/bus.js';
import { systemClock, type Clock } from './services/clock.js';
import { closeServices, createServices, type Services } from './services/index.js';
import type { Store } from './store/index.js';

/**
 * Route modules, one line per area: `register<Area>Routes(app, services)` from `http/routes/<area>.ts`.
 * Shared registration point: add your line (additive edit). The site module (`/`) stays last.
 */
function registerRoutes(app: TollgateApp, services: Services, limiter: KeyRateLimiter | undefined): void {
  registerSystemRoutes(app, services);
  registerTenantRoutes(app, services);
  registerKeyRoutes(app, services);
  registerAuditRoutes(app, services);
  registerEventRoutes(app, services);
  registerSdkAgentRoutes(app, services);
  registerExecutionRoutes(app, services);
  registerCredentialRoutes(app, services);
  registerPermissionRequestRoutes(app, services);
  registerEnforceRoutes(app, services);
  registerApprovalRoutes(app, services);
  registerPolicyRoutes(app, services);
  registerKillSwitchRoutes(app, services);
  registerSessionRoutes(app, services, limiter);
  registerDashboardRoutes(app, services);
  registerSafetyRoutes(app, services);
  registerComplianceRoutes(app, services);
  registerSiteRoutes(app, services);
}

/** What `createServer` needs. */
export interface ServerDeps {
  readonly config: TollgateConfig;
  /** An opened, migrated store. The server does not close it: whoever opened it does. */
  readonly store: Store;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly bus?: Bus;
}

/** A route as registered (used by the generic fuzz and tenant-isolation tests and by docs). */
export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
  readonly schema: FastifySchema | undefined;
  readonly scope: string | undefined;
  readonly public: boolean;
}

/** A built server. */
export interface TollgateServer {
  readonly app: TollgateApp;
  readonly services: Services;
  /** Every route registered so far (complete once the app is ready/listening). */
  readonly routes: readonly RegisteredRoute[];
  /** Listens and returns the base URL, e.g. `http://127.0.0.1:8787`. */
  listen(options?: { port?: number; host?: string }): Promise<string>;
  /** Stops accepting connections, waits for in-flight requests (up to `config.shutdownTimeoutMs`), closes services. */
  close(): Promise<void>;
}

/** Incoming `X-Request-Id` values we trust enough to reuse (anything else gets a fresh UUID). */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Fresh request ids: a random per-process prefix and a counter (`r7k2m9qx4d-1a2b`): unique across restarts and
 * replicas for log correlation, and cheaper than a UUID per request. They are identifiers, not secrets.
 */
const REQUEST_ID_PREFIX = randomBytes(8).readBigUInt64BE().toString(36).padStart(13, '0').slice(0, 10);
let requestCounter = 0;

function requestIdFrom(header: string | string[] | undefined): string {
  if (typeof header === 'string' && REQUEST_ID_PATTERN.test(header)) return header;
  requestCounter += 1;
  return `${REQUEST_ID_PREFIX}-${requestCounter.toString(36)}`;
}

function requestIdOf(request: IncomingMessage): string {
  return requestIdFrom(request.headers['x-request-id']);
}

/** Node's own default time to receive request headers (kept unless the whole-request timeout is shorter). */
const HEADERS_TIMEOUT_MS = 60_000;

/**
 * Slow-client timeouts. Node checks them every `connectionsCheckingInterval` (30 s by default), so the interval
 * follows the timeout: a connection is cut at most a quarter of the timeout late.
 */
function slowClientTimeouts(config: TollgateConfig): { requestTimeout: number; http: { headersTimeout: number; connectionsCheckingInterval: number } } {
  const requestTimeout = config.requestTimeoutMs;
  return {
    requestTimeout,
    http: { headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeout), connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(requestTimeout / 4))) },
  };
}

/**
 * Requests Node's HTTP parser refuses before any route sees them (headers over the size limit, a malformed request
 * line, headers that did not arrive in time) still get the error envelope, then the connection is closed as Node
 * closes it (Fastify's default answered `{"error":"Request Header Fields Too Large",…}` in another shape).
 */
function clientErrorHandler(this: { log: FastifyBaseLogger }, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message]: [number, ErrorCode, string] = error.code === 'HPE_HEADER_OVERFLOW'
    ? [431, 'HEADERS_TOO_LARGE', 'request headers exceed the server\'s limit (16 KB in all)']
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'REQUEST_TIMEOUT', 'the request did not arrive in time (TOLLGATE_REQUEST_TIMEOUT_MS)']
      : [400, 'BAD_REQUEST', 'malformed HTTP request'];
  this.log.debug({ err: error }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify(errorEnvelope(code, message, requestIdFrom(undefined)));
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}

function buildFastify(config: TollgateConfig, logger: Logger, direct: DirectRoutes): TollgateApp {
  return Fastify({
    ...slowClientTimeouts(config),
    serverFactory: direct.serverFactory,
    loggerInstance: logger as FastifyBaseLogger,
    childLoggerFactory: lazyChildLoggerFactory,
    bodyLimit: config.bodyLimitBytes,
    genReqId: requestIdOf,
    return503OnClosing: true,
    clientErrorHandler,
    routerOptions: { maxParamLength: 512 },
    // Errors raised before routing (bad URL encoding, over-long path parameters) also get the envelope.
    frameworkErrors: (error, request, reply) => {
      const classified = classifyError(error);
      void (reply as FastifyReply).code(classified.status).send(errorEnvelope(classified.code, classified.message, request.id));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
}

function collectRoutes(app: TollgateApp): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routes.push({ method, url: route.url, schema: route.schema, scope: route.config?.scope, public: route.config?.public === true });
    }
  });
  return routes;
}

async function closeGracefully(app: TollgateApp, timeoutMs: number): Promise<void> {
  const timer = setTimeout(() => app.server.closeAllConnections(), timeoutMs);
  // Keep-alive connections become idle when their in-flight request ends; close them as they do, so draining
  // takes as long as the slowest request, not the keep-alive timeout.
  const sweeper = setInterval(() => app.server.closeIdleConnections(), 50);
  timer.unref();
  sweeper.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
    clearInterval(sweeper);
  }
}

/**
 * Builds the HTTP server: Fastify with TypeBox, request ids, redacted structured logs, the error envelope,
 * API-key auth, metrics, OpenAPI, and every route module. Routes may still be added before `listen`.
 *
 * @example
 * const server = await createServer({ config: loadConfig(), store });
 * const url = await server.listen();
 */
export async function createServer(deps: ServerDeps): Promise<TollgateServer> {
  const { config, store } = deps;
  const logger = deps.logger ?? createLogger(config.logLevel);
  const services = await createServices({ config, store, clock: deps.clock ?? systemClock(), logger, ...(deps.bus ? { bus: deps.bus } : {}) });
  // A per-key rate limit is enforced by the auth hook, so with one every request goes through Fastify.
  const limiter = config.keyRateLimit > 0 ? new KeyRateLimiter(config.keyRateLimit, config.keyRateBurst) : undefined;
  const direct = new DirectRoutes({ enabled: config.httpDirectRoutes && limiter === undefined, bodyLimit: config.bodyLimitBytes, logger, requestIdFrom });
  const app = buildFastify(config, logger, direct);
  const routes = collectRoutes(app);
  direct.collect(app, registerValidation(app));
  registerErrorHandling(app);
  // Before auth, so refusals carry the header too.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  registerAuth(app, services.keys, createSessionAuthenticator(services.dashboardSessions), limiter);
  direct.attach({ keys: services.keys, metrics: registerHttpMetrics(app, services.metrics, () => direct.served) });
  await registerOpenApi(app);
  registerRoutes(app, services, limiter);
  app.addHook('onClose', async () => closeServices(services));
  return {
    app,
    services,
    routes,
    async listen(options = {}) {
      return app.listen({ port: options.port ?? config.port, host: options.host ?? config.host });
    },
    close: () => closeGracefully(app, config.shutdownTimeoutMs),
  };
}
