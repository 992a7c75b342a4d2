import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { ErrorEnvelopeSchema } from './errors.js';
import { publicRoute } from './auth.js';
import type { TollgateApp } from './type-provider.js';

/** Version string put in the OpenAPI document. */
export const API_VERSION = '0.1.0';

/**
 * Registers @fastify/swagger (document built from every route's schema) and serves it at `/openapi.json`,
 * with swagger-ui at `/docs`. Must be registered before the route modules so it sees them.
 */
export async function registerOpenApi(app: TollgateApp): Promise<void> {
  app.addSchema(ErrorEnvelopeSchema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Tollgate API', version: API_VERSION, description: 'Governance for AI agents. Errors use the ErrorEnvelope schema.' },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'tg_live_<id>_<secret>' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
    },
  });
  app.get('/openapi.json', { ...publicRoute(), schema: { hide: true } }, async () => app.swagger());
  await app.register(async (scope) => {
    // swagger-ui's own routes (HTML, assets) need no key.
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    // It shares the dashboard's origin (and its CSRF cookie): a strict CSP of swagger-ui's own assets, no framing.
    await scope.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      transformStaticCSP: (header) => header.replace("frame-ancestors 'self'", "frame-ancestors 'none'"),
      uiHooks: {
        onRequest: (_request, reply, done) => {
          void reply.header('x-frame-options', 'DENY').header('referrer-policy', 'no-referrer').header('x-content-type-options', 'nosniff');
          done();
        },
      },
    });
  });
}
