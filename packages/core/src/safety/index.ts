// Content safety: layer-1 patterns (injection, jailbreak, secrets, PII, toxicity) and layer-2
// built-in scorers. Internals (feature hashing, rule tables' helpers) are not exported; the rule
// tables themselves are, read-only, so that callers can list and document them.
export { createSafetyScanner, DEFAULT_SAFETY_MAX_CHARS } from './scanner.js';
export type { FindingAction, SafetyScanner, SafetyScannerOptions, SafetyScanOptions } from './scanner.js';
export { DEFAULT_SAFETY_TEMPLATE, DEFAULT_SAFETY_THRESHOLDS, resolveSafetyThresholds } from './thresholds.js';
export type { SafetyTemplate, SafetyThresholds } from './thresholds.js';
export { MAX_REDACTION_DEPTH, REDACTION_DEPTH_MARKER, redactSecrets, redactSecretsDeep, detectSecrets, shannonEntropy } from './secrets.js';
export { SECRET_RULES } from './secret-rules.js';
export type { SecretRule } from './secret-rules.js';
export { detectPii, ibanValid, luhnValid, ssnValid } from './pii.js';
export { INJECTION_PATTERNS, TOXICITY_PATTERNS } from './patterns.js';
export type { PhrasePattern } from './patterns.js';
export { createHttpDetector, createModerationDetector, DEFAULT_DETECTOR_TIMEOUT_MS } from './external.js';
export type { ExternalDetection, ExternalDetector, HttpDetectorOptions, ModerationDetectorOptions } from './external.js';
export { pinoSecretRedaction } from './log-redaction.js';
export type { PinoSecretRedactionOptions } from './log-redaction.js';
export type { SerializedLinearModel } from './linear-model.js';
export type { SerializedOffTopic } from './off-topic.js';
export type { SerializedWordVectors } from './word-vectors.js';
export type { FindingType, SafetyDirection, SafetyFinding, SafetyScanResult, SafetyScores, SafetyVerdict } from './types.js';
