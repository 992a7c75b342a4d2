import { Type } from '@sinclair/typebox';
import type { Services } from '../../services/index.js';
import { publicRoute } from '../auth.js';
import { ErrorEnvelopeSchema, sendError } from '../errors.js';
import type { TollgateApp } from '../type-provider.js';

const StatusSchema = Type.Object({ status: Type.String() });

/**
 * `GET /healthz` (process is up), `GET /readyz` (database answers), `GET /metrics` (Prometheus text).
 *
 * @example
 * registerSystemRoutes(app, services);
 */
export function registerSystemRoutes(app: TollgateApp, services: Services): void {
  app.get(
    '/healthz',
    { ...publicRoute(), schema: { tags: ['system'], summary: 'Liveness', response: { 200: StatusSchema } } },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    { ...publicRoute(), schema: { tags: ['system'], summary: 'Readiness (checks the database)', response: { 200: StatusSchema, 503: ErrorEnvelopeSchema } } },
    async (request, reply) => {
      try {
        await services.store.ping();
        return { status: 'ready' };
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed');
        return sendError(reply, request, 'UNAVAILABLE', 'Database unavailable');
      }
    },
  );
  app.get(
    '/metrics',
    { ...publicRoute(), schema: { tags: ['system'], summary: 'Prometheus metrics', produces: ['text/plain'] } },
    async (_request, reply) => {
      reply.header('content-type', services.metrics.contentType);
      return services.metrics.metrics();
    },
  );
}
