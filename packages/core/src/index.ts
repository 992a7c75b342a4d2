// Public surface of @tollgate/core; areas are added by their issues.
export const CORE_VERSION = '0.1.0';
export { ERROR_STATUS, TollgateError, isErrorCode, isTollgateError, statusForCode } from './errors.js';
export type { ErrorCode, TollgateErrorOptions } from './errors.js';
export * from './ledger/index.js';
export * from './policy/index.js';
export * from './safety/index.js';
export { parseIsoTime } from './time.js';
