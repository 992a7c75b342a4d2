/**
 * A real Tollgate server for SDK tests: tenants with an active test policy and an API key that may
 * enforce, write events, read them and approve holds. Nothing here fakes the server.
 */
import { startTestServer, type TestServer } from '../../../../test-utils/index.js';

/** The policy every SDK test runs against. */
export const SDK_TEST_POLICY = `
name: sdk-tests
agents:
  pinned-agent:
    approvedScope: [read_file]
    enforcement: block
  "*":
    approvedScope: ["*"]
rules:
  - id: never-delete
    match: { tools: [delete_record, delete_file] }
    effect: BLOCK
    reason: records are never deleted by an agent
  - id: no-system-files
    match: { tools: [read_file] }
    when: has(args.input) && args.input == "/etc/passwd"
    effect: BLOCK
    reason: system files are off limits
  - id: email-needs-a-human
    match: { tools: [send_email] }
    effect: STEP_UP
    reason: outgoing email needs a human
  - id: injected-output
    stage: output
    match: { tools: [fetch_page] }
    when: output.contains("IGNORE PREVIOUS INSTRUCTIONS")
    effect: BLOCK
    reason: the page tries to instruct the agent
`;

/** Scopes of the key the SDK uses in tests. */
export const SDK_TEST_SCOPES = ['enforce', 'events:write', 'audit:read', 'approvals'] as const;

/** One tenant prepared for SDK tests. */
export interface GovernedTenant {
  id: string;
  /** Key with {@link SDK_TEST_SCOPES}. */
  key: string;
}

/** A running server plus helpers. */
export interface GovernedServer {
  t: TestServer;
  url: string;
  tenant: GovernedTenant;
  /** Prepares another tenant (e.g. the seed's "acme-corp"), with {@link SDK_TEST_POLICY} unless `policy` is given. */
  addTenant(id: string, policy?: string): Promise<GovernedTenant>;
  /** All stored events of a session (every page). */
  events(query: { sessionId?: string; agentId?: string }, tenant?: GovernedTenant): Promise<StoredEvent[]>;
  /** Waits until a pending hold for `toolName` exists, then approves or denies it. */
  decideHold(toolName: string, action: 'approve' | 'deny', tenant?: GovernedTenant): Promise<string>;
  close(): Promise<void>;
}

/** An event as `GET /api/v1/events` returns it. */
export interface StoredEvent {
  eventId: string;
  eventType: string;
  agentId: string;
  sessionId: string;
  toolName: string;
  callId: string;
  decisionId: string | null;
  outcome: string | null;
  arguments?: unknown;
  result?: unknown;
  error: string | null;
  redaction: string;
}

async function prepareTenant(t: TestServer, id: string, create: boolean, source = SDK_TEST_POLICY): Promise<GovernedTenant> {
  const admin = create ? await t.createTenant(id) : id === t.tenantA.id ? t.tenantA : t.tenantB;
  const policy = await t.request('POST', '/api/v1/policies', { key: admin.adminKey, body: { name: 'sdk-tests', source, activate: true } });
  if (policy.status !== 201) throw new Error(`policy setup failed: ${policy.status} ${JSON.stringify(policy.body)}`);
  const { token } = await t.services.keys.create({ tenantId: id, scopes: [...SDK_TEST_SCOPES], name: 'sdk tests' });
  return { id, key: token };
}

/**
 * Starts a server on port 0 with tenant `tenant-a` ready for the SDK.
 * @example
 * const server = await startGovernedServer();
 * instrument(agent, { agentId: 'a', apiUrl: server.url, apiKey: server.tenant.key });
 */
export async function startGovernedServer(options: { postgresUrl?: string } = {}): Promise<GovernedServer> {
  const t = await startTestServer(options.postgresUrl ? { postgresUrl: options.postgresUrl } : {});
  const tenant = await prepareTenant(t, t.tenantA.id, false);
  const server: GovernedServer = {
    t,
    url: t.url,
    tenant,
    addTenant: (id, policy) => prepareTenant(t, id, true, policy),
    async events(query, which = tenant) {
      const all: StoredEvent[] = [];
      let cursor: string | null = null;
      do {
        const params = new URLSearchParams({ limit: '1000', ...query, ...(cursor ? { cursor } : {}) });
        const page = await t.request('GET', `/api/v1/events?${params}`, { key: which.key });
        if (page.status !== 200) throw new Error(`events query failed: ${page.status} ${JSON.stringify(page.body)}`);
        all.push(...(page.body.events as StoredEvent[]));
        cursor = page.body.nextCursor as string | null;
      } while (cursor);
      return all;
    },
    async decideHold(toolName, action, which = tenant) {
      for (let attempt = 0; attempt < 500; attempt += 1) {
        const pending = await t.request('GET', '/api/v1/approvals?status=pending', { key: which.key });
        const item = (pending.body.items as { id: string; kind: string; toolName?: string }[]).find((entry) => entry.kind === 'hold' && entry.toolName === toolName);
        if (item) {
          const decided = await t.request('POST', `/api/v1/approvals/${item.id}/${action}`, { key: which.key, body: { approver: 'test-reviewer', comment: `${action}d by the test` } });
          if (decided.status !== 200) throw new Error(`${action} failed: ${decided.status} ${JSON.stringify(decided.body)}`);
          return item.id;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`no pending hold for ${toolName}`);
    },
    close: () => t.close(),
  };
  return server;
}

/** Polls until `check` passes (events are sent in the background). */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!check(value)) {
    if (Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}
