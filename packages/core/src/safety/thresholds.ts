/** Sandbox templates of the seed; each carries content-safety defaults. */
export type SafetyTemplate = 'STRICT' | 'STANDARD' | 'DEV';

/**
 * When a scan blocks or asks for review. A score at or above `injection` / `toxicity` blocks (the
 * seed: "injection < 0.35 and toxicity < 0.4 pass"); a score within `reviewMargin` below it asks for
 * review. `enabled: false` (the seed's DEV template) still scans and reports, but always allows.
 */
export interface SafetyThresholds {
  enabled: boolean;
  injection: number;
  toxicity: number;
  reviewMargin: number;
}

/** Seed defaults: content safety on for STRICT and STANDARD, off for DEV. */
export const DEFAULT_SAFETY_THRESHOLDS: Readonly<Record<SafetyTemplate, Readonly<SafetyThresholds>>> = {
  STRICT: { enabled: true, injection: 0.35, toxicity: 0.4, reviewMargin: 0.1 },
  STANDARD: { enabled: true, injection: 0.35, toxicity: 0.4, reviewMargin: 0.1 },
  DEV: { enabled: false, injection: 0.35, toxicity: 0.4, reviewMargin: 0.1 },
};

/** The template used when none is named. */
export const DEFAULT_SAFETY_TEMPLATE: SafetyTemplate = 'STANDARD';

/**
 * Thresholds for a template with per-policy overrides applied on top (unknown template → STANDARD).
 * Numbers are clamped to [0, 1].
 *
 * @example
 * resolveSafetyThresholds('STRICT', { injection: 0.2 }); // { enabled: true, injection: 0.2, toxicity: 0.4, reviewMargin: 0.1 }
 */
export function resolveSafetyThresholds(template?: string, overrides: Partial<SafetyThresholds> = {}): SafetyThresholds {
  const key = (template ?? DEFAULT_SAFETY_TEMPLATE).toUpperCase();
  const base = key in DEFAULT_SAFETY_THRESHOLDS ? DEFAULT_SAFETY_THRESHOLDS[key as SafetyTemplate] : DEFAULT_SAFETY_THRESHOLDS.STANDARD;
  const clamp = (v: number | undefined, d: number): number => (v === undefined || Number.isNaN(v) ? d : Math.min(1, Math.max(0, v)));
  return {
    enabled: overrides.enabled ?? base.enabled,
    injection: clamp(overrides.injection, base.injection),
    toxicity: clamp(overrides.toxicity, base.toxicity),
    reviewMargin: clamp(overrides.reviewMargin, base.reviewMargin),
  };
}
