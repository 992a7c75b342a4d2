import { Counter, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TollgateApp } from './type-provider.js';

/** Histogram buckets (seconds) of request durations. */
export const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Counts requests and observes durations per route pattern (never the raw URL: bounded label cardinality).
 *
 * @example
 * registerHttpMetrics(app, services.metrics);
 */
export function registerHttpMetrics(app: TollgateApp, registry: Registry): void {
  collectDefaultMetrics({ register: registry, prefix: 'tollgate_' });
  const requests = new Counter({
    name: 'tollgate_http_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'tollgate_http_request_duration_seconds',
    help: 'HTTP request duration by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  });
  // Each route gets its own hook with its label resolved once (`request.routeOptions` builds a fresh object on
  // every access); labelled children are cached per status, since prom-client otherwise hashes the label object on
  // every observation. Requests matching no route are counted by one global hook under route="unmatched".
  const observe = (method: string, route: string) => {
    const histogram = duration.labels(method, route);
    const counters = new Map<number, { inc(): void }>();
    return (statusCode: number, elapsedMs: number) => {
      let counter = counters.get(statusCode);
      if (!counter) {
        counter = requests.labels(method, route, String(statusCode));
        counters.set(statusCode, counter);
      }
      counter.inc();
      histogram.observe(elapsedMs / 1000);
    };
  };
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const recorders = new Map(methods.map((method) => [method, observe(method, route.url)]));
    const existing = route.onResponse === undefined ? [] : Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse];
    const hook = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      recorders.get(request.method)?.(reply.statusCode, reply.elapsedTime);
      done();
    };
    route.onResponse = [...existing, hook as unknown as (typeof existing)[number]];
  });
  const unmatched = new Map<string, (statusCode: number, elapsedMs: number) => void>();
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) {
      let record = unmatched.get(request.method);
      if (!record) {
        record = observe(request.method, 'unmatched');
        unmatched.set(request.method, record);
      }
      record(reply.statusCode, reply.elapsedTime);
    }
    done();
  });
}
