import { Type } from '@sinclair/typebox';
import type { Services } from '../../services/index.js';
import { authOf, requireScope } from '../auth.js';
import { ErrorEnvelopeSchema, RateLimitedResponseSchema } from '../errors.js';
import { clientGone, streamCredentialCheck, streamSlotsOf } from '../stream-credential.js';
import type { TollgateApp } from '../type-provider.js';

const Status = Type.Union(['pending', 'approved', 'denied', 'expired'].map((status) => Type.Literal(status)));
const Item = Type.Object({
  kind: Type.String(),
  id: Type.String(),
  status: Status,
  agentId: Type.String(),
  toolName: Type.Optional(Type.String()),
  arguments: Type.Optional(Type.Unknown()),
  reason: Type.String(),
  createdAt: Type.String(),
  expiresAt: Type.String(),
}, { additionalProperties: true });
const DecisionBody = Type.Union([
  Type.Object({ approver: Type.Optional(Type.String({ maxLength: 200 })), comment: Type.Optional(Type.String({ maxLength: 4000 })) }, { additionalProperties: false }),
  Type.Null(),
]);
const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 403: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema, 409: ErrorEnvelopeSchema };
const tags = ['approvals'];
/** SSE comment sent this often so proxies keep the stream open. */
const KEEPALIVE_MS = 15_000;

/**
 * `/api/v1/approvals` (scope `approvals`): one queue over step-up holds and sandbox permission requests;
 * approve or deny by id; `GET /api/v1/approvals/stream` (SSE) announces new and decided items.
 *
 * @example
 * registerApprovalRoutes(app, services);
 */
export function registerApprovalRoutes(app: TollgateApp, services: Services): void {
  app.get('/api/v1/approvals', {
    ...requireScope('approvals'),
    schema: {
      tags, summary: 'List approval items (holds and permission requests)',
      querystring: Type.Object({ status: Type.Optional(Status), kind: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(Item) }), ...errors },
    },
  }, async (request) => ({ items: await services.approvals.list(authOf(request).tenantId, request.query.status as never, request.query.kind) }));
  for (const action of ['approve', 'deny'] as const) {
    app.post(`/api/v1/approvals/:id/${action}`, {
      ...requireScope('approvals'),
      schema: { tags, summary: action === 'approve' ? 'Approve a pending item' : 'Deny a pending item', params: Params, body: DecisionBody, response: { 200: Item, ...errors } },
    }, async (request) => {
      const { tenantId, keyId } = authOf(request);
      const decision = { approver: request.body?.approver ?? keyId, comment: request.body?.comment ?? null, keyId };
      return action === 'approve'
        ? services.approvals.approve(tenantId, request.params.id, decision)
        : services.approvals.deny(tenantId, request.params.id, decision);
    });
  }
  const whyNotStanding = streamCredentialCheck(services, 'approvals');
  const slots = streamSlotsOf(services);
  app.get('/api/v1/approvals/stream', { ...requireScope('approvals'), schema: { tags, summary: 'Server-sent events: `approval` per new or decided item', response: { 429: RateLimitedResponseSchema } } },
    async (request, reply) => {
      const opened = authOf(request);
      // Gone while it was authenticated: its `close` has fired already, and nothing would give the slot back.
      if (clientGone(request)) return void reply.hijack();
      const release = slots.acquire(opened.tenantId, opened.keyId);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': request.id });
      raw.write(`event: connected\ndata: ${JSON.stringify({ kinds: services.approvals.kinds() })}\n\n`);
      let ended = false;
      const write = (chunk: string) => {
        if (!ended && !raw.writableEnded && !raw.destroyed) raw.write(chunk);
      };
      // Everything goes through one queue: each event (and each keepalive) is sent only after the credential that
      // opened the stream was checked again, in order. A revoked or expired key, a signed-out session or a lost
      // scope gets `event: error` and the end of the stream instead of the tenant's next approvals.
      let queue = Promise.resolve();
      const send = (chunk: string) => {
        queue = queue.then(async () => {
          if (ended) return;
          const reason = await whyNotStanding(request, opened);
          if (reason !== undefined) return end({ code: 'UNAUTHENTICATED', message: reason });
          write(chunk);
        }).catch((error: unknown) => request.log.warn({ err: error }, 'approvals stream credential check failed'));
      };
      const off = services.approvals.subscribe(opened.tenantId, (event) => send(`event: approval\ndata: ${JSON.stringify(event)}\n\n`));
      const keepalive = setInterval(() => send(': keepalive\n\n'), KEEPALIVE_MS);
      keepalive.unref();
      function end(error?: { code: string; message: string }): void {
        if (ended) return;
        if (error) write(`event: error\ndata: ${JSON.stringify(error)}\n\n`);
        ended = true;
        release();
        clearInterval(keepalive);
        off();
        if (!raw.writableEnded) raw.end();
      }
      request.raw.on('close', () => end());
      raw.on('error', () => end());
    });
}
