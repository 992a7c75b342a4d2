export { TenantService, SYSTEM_TENANT_ID, TENANT_ID_PATTERN } from './tenant-service.js';
export type { BootstrapResult, TenantServiceDeps } from './tenant-service.js';
