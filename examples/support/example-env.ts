/**
 * Test-side setup for the examples: a real Tollgate server, the fake model server, and the
 * environment variables the seed's examples read (`THOTH_API_URL`, `THOTH_API_KEY`,
 * `OPENAI_BASE_URL`, `ANTHROPIC_BASE_URL`, …).
 *
 * The seed hard-codes `apiUrl: "https://enforce.acme-corp.atensecurity.com"` in two examples. To run
 * them exactly as written, the test (never the SDK) routes `fetch` calls for that host to the
 * local server. Everything else goes out untouched.
 */
import { startFakeModelServer, type FakeModelServer, type ScriptedReply } from '../../test-utils/fake-model-server.js';
import { startGovernedServer, type GovernedServer, type GovernedTenant } from '../../packages/sdk/test/support/governed-server.js';

/** The enforcer host named in the seed's Anthropic and OpenAI examples. */
export const SEED_ENFORCER_ORIGIN = 'https://enforce.acme-corp.atensecurity.com';

/** What an example test gets. */
export interface ExampleEnvironment {
  server: GovernedServer;
  model: FakeModelServer;
  tenant: GovernedTenant;
  close(): Promise<void>;
}

function routeSeedHost(target: string): () => void {
  const original = globalThis.fetch;
  globalThis.fetch = (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url.startsWith(SEED_ENFORCER_ORIGIN)) return original(target + url.slice(SEED_ENFORCER_ORIGIN.length), init);
    return original(input, init);
  };
  return () => {
    globalThis.fetch = original;
  };
}

/**
 * Starts both servers, prepares `tenantId` (the id the seed example uses) and sets the environment.
 * @example
 * const env = await setUpExample('acme-corp', [{ toolCalls: [{ name: 'search_docs', arguments: { query: 'x' } }] }]);
 */
export async function setUpExample(tenantId: string, script: ScriptedReply[]): Promise<ExampleEnvironment> {
  const server = await startGovernedServer();
  const tenant = tenantId === server.tenant.id ? server.tenant : await server.addTenant(tenantId);
  const model = await startFakeModelServer({ script });
  const restoreFetch = routeSeedHost(server.url);
  Object.assign(process.env, {
    THOTH_API_URL: server.url,
    THOTH_API_KEY: tenant.key,
    THOTH_LOG_LEVEL: 'ERROR',
    OPENAI_BASE_URL: `${model.url}/v1`,
    OPENAI_API_KEY: 'sk-test-not-a-real-key',
    ANTHROPIC_BASE_URL: model.url,
    ANTHROPIC_API_KEY: 'sk-ant-test-not-a-real-key',
  });
  return {
    server,
    model,
    tenant,
    async close() {
      restoreFetch();
      await model.close();
      await server.close();
    },
  };
}
