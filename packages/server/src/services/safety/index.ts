export { SafetyService } from './safety-service.js';
export type { SafetyScanRequest, SafetyServiceOptions } from './safety-service.js';
