// Public surface of @tollgate/server; filled by the foundation issue.
export { CORE_VERSION } from '@tollgate/core';
