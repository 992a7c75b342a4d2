export { TenantService, SYSTEM_TENANT_ID, TENANT_ID_PATTERN, MAX_RETENTION_DAYS } from './tenant-service.js';
export type { BootstrapResult, TenantServiceDeps } from './tenant-service.js';
