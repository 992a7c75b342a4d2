// Shared test utilities (imported by tests only, never by product code).
export { startTestServer, type TestServer, type TestServerOptions, type TestTenant } from './server.js';
export { postgresTestUrl, createTestDatabase, type TestDatabase } from './postgres.js';
export { describeStoreConformance, openTestSqliteStore, openTestPostgresStore, type TestStore } from './store.js';
export { rawRequest, type RawResponse, type RawRequestOptions } from './raw-http.js';
export { sampleFromSchema, wrongTypeFor, fillPath, pathParams, encodeSegment } from './schema-sample.js';
export { TENANT_FIXTURES, defineTenantFixture, type TenantFixture, type TenantFixtureContext, type TenantFixtureDefinition } from './tenant-fixtures/index.js';
export { acrossRestart, type RestartEnforce } from './restart.js';
export { signInDashboard, withSessionCookie, type DashboardSignIn } from './dashboard-session.js';
export { ALNUM, UPPER_B32, randomAwsKey, randomGithubToken, randomText, recognisedSecret } from './secrets.js';
