import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, type Registry } from 'prom-client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TollgateApp } from './type-provider.js';

/** Histogram buckets (seconds) of request durations. */
export const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Labels = Record<string, string>;
interface MetricValue {
  readonly labels: Labels;
  readonly value: number;
  readonly metricName?: string;
}

/** One (method, route) series: bucket counts, sum, count, and request counts per status. */
class RouteSeries {
  readonly buckets = new Float64Array(HTTP_DURATION_BUCKETS.length);
  sum = 0;
  count = 0;
  readonly statuses = new Map<number, number>();

  constructor(
    readonly method: string,
    readonly route: string,
  ) {}

  record(statusCode: number, seconds: number): void {
    this.statuses.set(statusCode, (this.statuses.get(statusCode) ?? 0) + 1);
    this.sum += seconds;
    this.count += 1;
    for (let i = 0; i < HTTP_DURATION_BUCKETS.length; i += 1) {
      if (seconds <= HTTP_DURATION_BUCKETS[i]!) {
        this.buckets[i]! += 1;
        break;
      }
    }
  }
}

/**
 * The HTTP request counter and duration histogram, in prom-client's exposition format but recorded with plain
 * arithmetic: prom-client's own `observe` validates and hashes the label set on every request, which cost more
 * than everything else Tollgate does on a trivial route. Values are assembled only when `/metrics` is scraped.
 */
class HttpMetricsSource {
  readonly series: RouteSeries[] = [];

  add(method: string, route: string): RouteSeries {
    const series = new RouteSeries(method, route);
    this.series.push(series);
    return series;
  }

  register(registry: Registry): void {
    const requests = {
      name: 'tollgate_http_requests_total',
      help: 'HTTP requests by method, route pattern and status',
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({ name: requests.name, help: requests.help, type: requests.type, aggregator: 'sum', values: this.requestValues() }),
      reset: () => undefined,
    };
    const duration = {
      name: 'tollgate_http_request_duration_seconds',
      help: 'HTTP request duration by method and route pattern',
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({ name: duration.name, help: duration.help, type: duration.type, aggregator: 'sum', values: this.durationValues(duration.name) }),
      reset: () => undefined,
    };
    registry.registerMetric(requests as unknown as Parameters<Registry['registerMetric']>[0]);
    registry.registerMetric(duration as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  private requestValues(): MetricValue[] {
    const values: MetricValue[] = [];
    for (const s of this.series) {
      for (const [status, count] of s.statuses) values.push({ labels: { method: s.method, route: s.route, status: String(status) }, value: count });
    }
    return values;
  }

  private durationValues(name: string): MetricValue[] {
    const values: MetricValue[] = [];
    for (const s of this.series) {
      if (s.count === 0) continue;
      const labels = { method: s.method, route: s.route };
      let cumulative = 0;
      HTTP_DURATION_BUCKETS.forEach((bound, i) => {
        cumulative += s.buckets[i]!;
        values.push({ labels: { ...labels, le: String(bound) }, value: cumulative, metricName: `${name}_bucket` });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: s.count, metricName: `${name}_bucket` });
      values.push({ labels, value: s.sum, metricName: `${name}_sum` });
      values.push({ labels, value: s.count, metricName: `${name}_count` });
    }
    return values;
  }
}

const SERIES = Symbol('tollgate.metricsSeries');
const STARTED = Symbol('tollgate.startedAt');
type TaggedResponse = ServerResponse & { [SERIES]?: RouteSeries; [STARTED]?: number };

/** How the HTTP server's request listener (`direct-routes.ts`) reports requests to the HTTP metrics. */
export interface HttpMetricsTagger {
  /** The series of a registered route (opaque; pass it to `record`). */
  seriesOf(method: string, url: string): unknown;
  /** A request going to Fastify: timed from now, recorded under its route (or "unmatched") when it finishes. */
  begin(response: ServerResponse): void;
  /** A request answered on the direct path: recorded at once. */
  record(series: unknown, statusCode: number, seconds: number): void;
}

/**
 * Counts requests and observes durations per route pattern (never the raw URL: bounded label cardinality).
 *
 * The HTTP server's request listener (`direct-routes.ts`) times every request: a request answered on the direct path
 * is recorded when it is answered; one going to Fastify is tagged with its route's series by the route's first
 * `onRequest` hook and recorded from a shared `finish` listener (no closure per request). A Fastify `onResponse`
 * hook would do the same at several times the cost per request, and Node's HTTP diagnostics channels allocate two
 * messages per request even for requests that need none. Responses of requests that never reached a route (404,
 * malformed URLs) are counted under route="unmatched".
 *
 * @example
 * const metrics = registerHttpMetrics(app, services.metrics);
 */
export function registerHttpMetrics(app: TollgateApp, registry: Registry, directServed?: () => number): HttpMetricsTagger {
  collectDefaultMetrics({ register: registry, prefix: 'tollgate_' });
  const source = new HttpMetricsSource();
  source.register(registry);
  if (directServed) registerDirectRequestsMetric(registry, directServed);
  const byRoute = new Map<string, RouteSeries>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const recorders = new Map(methods.map((method) => [method, source.add(method, route.url)]));
    for (const [method, series] of recorders) byRoute.set(`${method} ${route.url}`, series);
    const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    const hook = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      (reply.raw as TaggedResponse)[SERIES] = recorders.get(request.method);
      done();
    };
    // First, so requests refused by authentication are counted under their route too.
    route.onRequest = [hook as unknown as (typeof existing)[number], ...existing];
  });
  const unmatched = new Map<string, RouteSeries>();
  const unmatchedSeries = (method: string): RouteSeries => {
    let series = unmatched.get(method);
    if (!series) {
      series = source.add(method, 'unmatched');
      unmatched.set(method, series);
    }
    return series;
  };
  function onFinish(this: TaggedResponse): void {
    const series = this[SERIES] ?? unmatchedSeries(this.req?.method ?? 'GET');
    const started = this[STARTED];
    series.record(this.statusCode, started === undefined ? 0 : (performance.now() - started) / 1000);
  }
  return {
    seriesOf: (method, url) => byRoute.get(`${method} ${url}`),
    begin(response) {
      (response as TaggedResponse)[STARTED] = performance.now();
      response.on('finish', onFinish);
    },
    record(series, statusCode, seconds) {
      (series as RouteSeries | undefined)?.record(statusCode, seconds);
    },
  };
}

/** `tollgate_http_direct_requests_total`: requests answered on the direct path (also counted per route above). */
function registerDirectRequestsMetric(registry: Registry, served: () => number): void {
  const metric = {
    name: 'tollgate_http_direct_requests_total',
    help: 'Requests answered on the direct path of the hot routes (also counted in tollgate_http_requests_total)',
    type: 'counter',
    aggregator: 'sum',
    get: async () => ({ name: metric.name, help: metric.help, type: metric.type, aggregator: 'sum', values: [{ labels: {}, value: served() }] }),
    reset: () => undefined,
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}
