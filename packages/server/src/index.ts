// Public surface of @tollgate/server. Internal modules (route files, repositories' SQL) are not exported:
// other packages (CLI, tests) build servers through createServer/startTollgate and talk HTTP.
export { CORE_VERSION } from '@tollgate/core';

// Configuration
export {
  loadConfig,
  parseConfigValue,
  CONFIG_VARIABLES,
  API_KEY_PATTERN,
  DEFAULT_PORT,
  DEFAULT_HOST,
  DEFAULT_DATA_DIR,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_AUTH_CACHE_TTL_MS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  LOG_LEVELS,
} from './config.js';
export type { TollgateConfig, ConfigVariable, LogLevel } from './config.js';

// Server
export { createServer } from './app.js';
export type { ServerDeps, TollgateServer, RegisteredRoute } from './app.js';
export { startTollgate } from './start.js';
export type { StartOptions, RunningTollgate } from './start.js';
export { createLogger, REDACTED_LOG_PATHS } from './http/logger.js';
export { requireScope, publicRoute, authOf, assertSameTenant } from './http/auth.js';
export { errorEnvelope, sendError, ErrorEnvelopeSchema } from './http/errors.js';
export type { ErrorEnvelope } from './http/errors.js';
export type { TollgateApp, TypeBoxTypeProvider } from './http/type-provider.js';

// Services
export { createServices, closeServices } from './services/index.js';
export type { Services, ServiceDeps, Bus, BusListener, Clock, ManualClock } from './services/index.js';
export { systemClock, manualClock } from './services/clock.js';
export { createInProcessBus } from './services/bus.js';
export { createPostgresBus } from './services/bus-postgres.js';
export { SCOPES, hasScope, isScope, generateApiKey, parseApiKey, hashSecret, API_KEY_CHANGED_CHANNEL } from './services/keys/index.js';
export type { Scope, AuthContext } from './services/keys/index.js';
export { SYSTEM_TENANT_ID } from './services/tenants/index.js';

// Store
export { openStore, migrateStore, openSqliteStore, openPostgresStore, MIGRATIONS, runMigrations, SQLITE_FILE_NAME } from './store/index.js';
export type { Store, Dialect, Migration, MigrationResult, Tenant, ApiKeyRecord } from './store/index.js';
// Enforcement (issue 3): replay of recorded decisions against a policy file (`tollgate policy replay`).
export { replayDecisions, DEFAULT_REPLAY_LIMIT, MAX_REPLAY_LIMIT } from './services/policies/replay.js';
export type { ReplayReport, ReplayChange, ReplayOptions } from './services/policies/replay.js';
export { dataFlowFingerprint } from './services/enforcement/index.js';
