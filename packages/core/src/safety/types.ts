/** Where a text is in an agent's flow. `tool_output` is what a tool returned to the model. */
export type SafetyDirection = 'input' | 'output' | 'tool_output';

/** Outcome of a scan: pass, ask a human, or stop. */
export type SafetyVerdict = 'allow' | 'review' | 'block';

/** Kinds of finding a scan reports. */
export type FindingType = 'injection' | 'jailbreak' | 'secret' | 'pii' | 'toxicity' | 'external';

/**
 * One thing a scan found, located by UTF-16 offsets `[start, end)` into the scanned text.
 * `redacted` is what the span reads as in `redactedText` (secrets and PII are masked; other
 * findings keep a short excerpt so that a reviewer can see why).
 */
export interface SafetyFinding {
  type: FindingType;
  rule: string;
  start: number;
  end: number;
  redacted: string;
}

/** Scores in [0, 1]; higher is worse. */
export interface SafetyScores {
  injection: number;
  toxicity: number;
}

/** Result of {@link SafetyScanner.scan}. */
export interface SafetyScanResult {
  verdict: SafetyVerdict;
  scores: SafetyScores;
  findings: SafetyFinding[];
  redactedText: string;
}
