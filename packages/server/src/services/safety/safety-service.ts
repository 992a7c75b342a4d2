import { createHttpDetector, createSafetyScanner } from '@tollgate/core';
import type { ExternalDetector, SafetyDirection, SafetyScanner, SafetyScanResult, SafetyTemplate, SafetyThresholds } from '@tollgate/core';

/** Settings of the server's content-safety service (from `config.ts`). */
export interface SafetyServiceOptions {
  template: SafetyTemplate;
  maxChars: number;
  detectorUrl?: string | undefined;
  detectorTimeoutMs?: number;
  detectorFailure?: 'open' | 'closed';
  /** Extra detectors (tests, embedding applications). */
  detectors?: ExternalDetector[];
  /** Every finished scan, by the enforcer, the scan endpoint or the sandbox (for `/metrics`). */
  onScanned?: ((direction: SafetyDirection, verdict: SafetyScanResult['verdict']) => void) | undefined;
}

/** Per-request choices of a scan. */
export interface SafetyScanRequest {
  text: string;
  direction: SafetyDirection;
  template?: SafetyTemplate | undefined;
  thresholds?: Partial<SafetyThresholds> | undefined;
}

/**
 * The content-safety service: one scanner (weights decoded once at start-up) shared by the scan
 * endpoint, the enforcer (`/v1/enforce`, `/v1/enforce/output`) and the sandbox API.
 *
 * @example
 * const safety = new SafetyService({ template: 'STANDARD', maxChars: 200_000 });
 * safety.scanner.scan(toolOutput, 'tool_output').verdict;
 */
export class SafetyService {
  /** Built-in layers only: synchronous and offline (what the enforcer calls on its hot path). */
  readonly scanner: SafetyScanner;
  private readonly withDetectors: SafetyScanner | null;

  constructor(readonly options: SafetyServiceOptions) {
    this.scanner = counted(createSafetyScanner({ template: options.template, maxChars: options.maxChars }), options.onScanned);
    const detectors = [...(options.detectors ?? [])];
    if (options.detectorUrl) {
      detectors.push(createHttpDetector({ name: 'configured', url: options.detectorUrl, timeoutMs: options.detectorTimeoutMs, failure: options.detectorFailure }));
    }
    this.withDetectors = detectors.length ? counted(createSafetyScanner({ template: options.template, maxChars: options.maxChars, detectors }), options.onScanned) : null;
  }

  /**
   * Scans with the built-in layers and, when configured, the external detectors.
   *
   * @example
   * const result = await services.safety.scan({ text, direction: 'input' });
   */
  async scan(request: SafetyScanRequest): Promise<SafetyScanResult> {
    const opts = { ...(request.template ? { template: request.template } : {}), ...(request.thresholds ? { thresholds: request.thresholds } : {}) };
    if (this.withDetectors) return this.withDetectors.scanAsync(request.text, request.direction, opts);
    return this.scanner.scan(request.text, request.direction, opts);
  }
}

/** The scanner, reporting each finished scan's direction and verdict (scans that throw are not counted). */
function counted(scanner: SafetyScanner, onScanned: SafetyServiceOptions['onScanned']): SafetyScanner {
  if (onScanned === undefined) return scanner;
  return {
    scan(text, direction, options) {
      const result = scanner.scan(text, direction, options);
      onScanned(direction, result.verdict);
      return result;
    },
    async scanAsync(text, direction, options) {
      const result = await scanner.scanAsync(text, direction, options);
      onScanned(direction, result.verdict);
      return result;
    },
  };
}
