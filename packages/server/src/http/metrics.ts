import { Counter, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
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
  // Labelled children are cached per (method, route, status): prom-client otherwise hashes the label object on
  // every observation.
  const counters = new Map<string, { inc(): void }>();
  const histograms = new Map<string, { observe(value: number): void }>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
    const status = String(reply.statusCode);
    const routeKey = `${request.method} ${route}`;
    const counterKey = `${routeKey} ${status}`;
    let counter = counters.get(counterKey);
    if (!counter) {
      counter = requests.labels(request.method, route, status);
      counters.set(counterKey, counter);
    }
    let histogram = histograms.get(routeKey);
    if (!histogram) {
      histogram = duration.labels(request.method, route);
      histograms.set(routeKey, histogram);
    }
    counter.inc();
    histogram.observe(reply.elapsedTime / 1000);
    done();
  });
}
