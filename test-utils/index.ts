// Shared test utilities (imported by tests only, never by product code).
export { startTestServer, type TestServer, type TestServerOptions, type TestTenant } from './server.js';
export { postgresTestUrl, createTestDatabase, type TestDatabase } from './postgres.js';
