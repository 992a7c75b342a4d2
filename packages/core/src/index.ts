// Public surface of @tollgate/core; areas are added by their issues.
export const CORE_VERSION = '0.1.0';
