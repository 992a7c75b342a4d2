import type { SafetyDirection, SafetyFinding } from './types.js';

/** What an external detector reports; missing scores mean "no opinion". */
export interface ExternalDetection {
  injection?: number;
  toxicity?: number;
  findings?: SafetyFinding[];
}

/**
 * An external detector (HTTP service, moderation API, …). It gets an AbortSignal that fires at
 * its timeout. `failure` decides what an error or timeout means:
 * - `'closed'` (default, like the rest of Tollgate): the scan blocks, with an `external.<name>.unavailable` finding;
 * - `'open'`: the detector is skipped and the scan notes the failure as a finding without changing the verdict.
 */
export interface ExternalDetector {
  name: string;
  timeoutMs?: number;
  failure?: 'open' | 'closed';
  detect(text: string, direction: SafetyDirection, signal: AbortSignal): Promise<ExternalDetection>;
}

/** Default time an external detector may take before its failure behaviour applies. */
export const DEFAULT_DETECTOR_TIMEOUT_MS = 2_000;

/** Options of {@link createHttpDetector}. */
export interface HttpDetectorOptions {
  name?: string;
  url: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  failure?: 'open' | 'closed';
  /** Turns the service's JSON answer into a detection. Default: reads `{ injection?, toxicity? }`. */
  mapResponse?: (body: unknown) => ExternalDetection;
  /** Injected for tests or proxies; defaults to the global fetch. */
  fetch?: typeof fetch;
}

const score = (v: unknown): number | undefined => (typeof v === 'number' && v >= 0 && v <= 1 ? v : undefined);

function defaultMap(body: unknown): ExternalDetection {
  const b = (body ?? {}) as Record<string, unknown>;
  const out: ExternalDetection = {};
  const injection = score(b.injection);
  const toxicity = score(b.toxicity);
  if (injection !== undefined) out.injection = injection;
  if (toxicity !== undefined) out.toxicity = toxicity;
  return out;
}

/**
 * A detector that POSTs `{ text, direction }` as JSON to `url` and reads `{ injection, toxicity }`.
 *
 * @example
 * const detector = createHttpDetector({ url: 'http://guard.internal/scan', timeoutMs: 500, failure: 'open' });
 */
export function createHttpDetector(options: HttpDetectorOptions): ExternalDetector {
  const doFetch = options.fetch ?? fetch;
  const detector: ExternalDetector = {
    name: options.name ?? 'http',
    timeoutMs: options.timeoutMs ?? DEFAULT_DETECTOR_TIMEOUT_MS,
    failure: options.failure ?? 'closed',
    async detect(text, direction, signal) {
      const res = await doFetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        body: JSON.stringify({ text, direction }),
        signal,
      });
      if (!res.ok) throw new Error(`detector ${detector.name} answered HTTP ${res.status}`);
      return (options.mapResponse ?? defaultMap)(await res.json());
    },
  };
  return detector;
}

/** Options of {@link createModerationDetector}. */
export interface ModerationDetectorOptions extends Omit<HttpDetectorOptions, 'mapResponse' | 'headers'> {
  apiKey?: string;
  model?: string;
}

/**
 * A detector for moderation-style APIs (request `{ input, model? }`, answer
 * `{ results: [{ category_scores: { harassment, hate, violence, … } }] }`): toxicity is the highest
 * category score. The request shape follows OpenAI's `/v1/moderations`.
 *
 * @example
 * createModerationDetector({ url: 'https://api.openai.com/v1/moderations', apiKey, failure: 'open' });
 */
export function createModerationDetector(options: ModerationDetectorOptions): ExternalDetector {
  const doFetch = options.fetch ?? fetch;
  const detector: ExternalDetector = {
    name: options.name ?? 'moderation',
    timeoutMs: options.timeoutMs ?? DEFAULT_DETECTOR_TIMEOUT_MS,
    failure: options.failure ?? 'closed',
    async detect(text, _direction, signal) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
      const res = await doFetch(options.url, { method: 'POST', headers, body: JSON.stringify({ input: text, ...(options.model ? { model: options.model } : {}) }), signal });
      if (!res.ok) throw new Error(`detector ${detector.name} answered HTTP ${res.status}`);
      const body = (await res.json()) as { results?: { category_scores?: Record<string, unknown> }[] };
      const scores = Object.values(body.results?.[0]?.category_scores ?? {}).map(score).filter((v): v is number => v !== undefined);
      return scores.length ? { toxicity: Math.max(...scores) } : {};
    },
  };
  return detector;
}

/** Outcome of running one detector under its timeout. */
export type DetectorOutcome = { ok: true; detection: ExternalDetection } | { ok: false; error: string };

/**
 * Runs a detector with its timeout; never throws.
 *
 * @example
 * const outcome = await runDetector(detector, text, 'tool_output');
 */
export async function runDetector(detector: ExternalDetector, text: string, direction: SafetyDirection): Promise<DetectorOutcome> {
  const controller = new AbortController();
  const timeoutMs = detector.timeoutMs ?? DEFAULT_DETECTOR_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`detector ${detector.name} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const detection = await Promise.race([detector.detect(text, direction, controller.signal), timeout]);
    return { ok: true, detection };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}
