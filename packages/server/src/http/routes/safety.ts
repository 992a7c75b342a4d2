import { Type } from '@sinclair/typebox';
import type { Services } from '../../services/index.js';
import { authOf, requireScope } from '../auth.js';
import { ErrorEnvelopeSchema } from '../errors.js';
import type { TollgateApp } from '../type-provider.js';

const Score = Type.Number({ minimum: 0, maximum: 1 });

const ScanBody = Type.Object(
  {
    text: Type.String({ description: 'Text to scan (at most TOLLGATE_SAFETY_MAX_CHARS characters; longer → 413)' }),
    direction: Type.Union([Type.Literal('input'), Type.Literal('output'), Type.Literal('tool_output')], {
      description: 'input = sent to the model or a tool; output = produced by the model; tool_output = returned by a tool',
    }),
    template: Type.Optional(Type.Union([Type.Literal('STRICT'), Type.Literal('STANDARD'), Type.Literal('DEV')], { description: 'Threshold template; default TOLLGATE_SAFETY_TEMPLATE' })),
    thresholds: Type.Optional(
      Type.Object(
        { injection: Type.Optional(Score), toxicity: Type.Optional(Score), reviewMargin: Type.Optional(Score) },
        { additionalProperties: false, description: 'Overrides on top of the template (block at or above)' },
      ),
    ),
  },
  { additionalProperties: false },
);

const FindingSchema = Type.Object({
  type: Type.String({ description: 'injection | jailbreak | secret | pii | toxicity | external' }),
  rule: Type.String({ description: 'Rule id (gitleaks ids for secrets, pii.*, injection.*, classifier.*)' }),
  start: Type.Integer({ description: 'UTF-16 offset of the span in `text`' }),
  end: Type.Integer(),
  redacted: Type.String({ description: 'Mask for secrets/PII; a short excerpt otherwise' }),
});

export const SafetyScanResultSchema = Type.Object(
  {
    verdict: Type.Union([Type.Literal('allow'), Type.Literal('review'), Type.Literal('block')]),
    scores: Type.Object({ injection: Score, toxicity: Score }),
    findings: Type.Array(FindingSchema),
    redactedText: Type.String({ description: '`text` with secrets and PII masked' }),
  },
  { $id: 'SafetyScanResult', title: 'SafetyScanResult' },
);

/**
 * `POST /api/v1/safety/scan` (scope `enforce`): scans `{ text, direction }` with the content-safety
 * layers and answers `{ verdict, scores, findings, redactedText }`. Bad input → 400, too long → 413.
 *
 * @example
 * registerSafetyRoutes(app, services);
 */
export function registerSafetyRoutes(app: TollgateApp, services: Services): void {
  app.post(
    '/api/v1/safety/scan',
    {
      ...requireScope('enforce'),
      schema: {
        tags: ['safety'],
        summary: 'Scan text for prompt injection, jailbreaks, toxicity, secrets and PII',
        body: ScanBody,
        response: { 200: SafetyScanResultSchema, 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 403: ErrorEnvelopeSchema, 413: ErrorEnvelopeSchema },
      },
    },
    async (request) => {
      authOf(request);
      const { text, direction, template, thresholds } = request.body;
      return services.safety.scan({ text, direction, template, thresholds });
    },
  );
}
