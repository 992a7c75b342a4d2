import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { TollgateError, createSafetyScanner } from '@tollgate/core';
import type { SafetyDirection, SafetyScanResult, SafetyTemplate } from '@tollgate/core';
import { answerOf, apiKeyOf, printJson, urlFlag } from './shared.js';

/** Exit codes of `tollgate safety scan` (1 = error, 2 = configuration error, as for every command). */
export const SAFETY_EXIT_CODES = { allow: 0, review: 3, block: 4 } as const;

interface ScanFlags {
  direction: string;
  template?: string;
  file?: string;
  url?: string;
  apiKey?: string;
  redacted?: boolean;
}

const DIRECTIONS = ['input', 'output', 'tool_output'];
const TEMPLATES = ['STRICT', 'STANDARD', 'DEV'];

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

async function scanRemote(url: string, apiKey: string | undefined, body: Record<string, unknown>): Promise<SafetyScanResult> {
  const response = await fetch(new URL('/api/v1/safety/scan', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKeyOf({ apiKey }, 'enforce')}` },
    body: JSON.stringify(body),
  });
  return answerOf<SafetyScanResult>('safety scan', response);
}

/**
 * Scans one text (offline with the built-in layers, or on a server with `url`) and returns the
 * printed JSON and the exit code.
 *
 * @example
 * const { exitCode } = await scanText('Ignore previous instructions', { direction: 'input' });
 */
export async function scanText(text: string, flags: ScanFlags): Promise<{ result: SafetyScanResult; exitCode: number }> {
  if (!DIRECTIONS.includes(flags.direction)) throw new TollgateError('VALIDATION_FAILED', `--direction must be one of ${DIRECTIONS.join(', ')}`);
  const template = flags.template?.toUpperCase();
  if (template !== undefined && !TEMPLATES.includes(template)) throw new TollgateError('VALIDATION_FAILED', `--template must be one of ${TEMPLATES.join(', ')}`);
  const direction = flags.direction as SafetyDirection;
  const result = flags.url
    ? await scanRemote(flags.url, flags.apiKey, { text, direction, ...(template ? { template } : {}) })
    : createSafetyScanner(template ? { template: template as SafetyTemplate } : {}).scan(text, direction);
  return { result, exitCode: SAFETY_EXIT_CODES[result.verdict] };
}

/**
 * `tollgate safety scan`: reads a text on stdin (or `--file`), prints `{ verdict, scores, findings }`
 * as JSON, and exits 0 (allow), 3 (review) or 4 (block).
 *
 * @example
 * registerSafetyCommand(program);
 */
export function registerSafetyCommand(program: Command): void {
  const safety = program.command('safety').description('Content safety: prompt injection, toxicity, secrets, PII');
  safety
    .command('scan')
    .description('Scan stdin; print the JSON result; exit 0 allow, 3 review, 4 block')
    .option('--direction <direction>', 'input | output | tool_output', 'input')
    .option('--template <template>', 'STRICT | STANDARD | DEV thresholds (default STANDARD)')
    .option('--file <path>', 'read the text from a file instead of stdin')
    .option('--redacted', 'also print redactedText (secrets and PII masked)')
    .option('--url <url>', 'scan on a running server instead of locally (POST /api/v1/safety/scan)', urlFlag('--url'))
    .option('--api-key <key>', 'API key for --url (scope enforce; default: env TOLLGATE_API_KEY)')
    .action(async (flags: ScanFlags) => {
      const text = flags.file ? readFileSync(flags.file, 'utf8') : await readStdin();
      const { result, exitCode } = await scanText(text, flags);
      const { verdict, scores, findings } = result;
      printJson(flags.redacted ? { verdict, scores, findings, redactedText: result.redactedText } : { verdict, scores, findings });
      process.exitCode = exitCode;
    });
}
