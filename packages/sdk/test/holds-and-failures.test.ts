import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flush, wrapToolFunctions } from '../src/index.js';
import type { TollgateConfig } from '../src/index.js';
import { startGovernedServer, type GovernedServer } from './support/governed-server.js';

let server: GovernedServer;
beforeAll(async () => {
  server = await startGovernedServer();
});
afterAll(async () => {
  await flush(5000);
  await server?.close();
});

function config(overrides: Partial<TollgateConfig> = {}): TollgateConfig {
  return { agentId: 'hold-agent', apiUrl: server.url, apiKey: server.tenant.key, approvedScope: ['send_email', 'read_file', 'delete_record'], sessionId: `s-${crypto.randomUUID()}`, logLevel: 'SILENT', ...overrides };
}

function emailTool(options: TollgateConfig) {
  const sent: string[] = [];
  const fns = wrapToolFunctions({ send_email: async (input: { to: string }) => { sent.push(input.to); return `sent to ${input.to}`; } }, options);
  return { fns, sent };
}

describe('step-up holds', () => {
  it('waits for a person, then continues when the hold is approved through the API', async () => {
    const { fns, sent } = emailTool(config({ enforcement: 'step_up' }));
    const call = fns.send_email({ to: 'team@example.com' });
    await server.decideHold('send_email', 'approve');
    await expect(call).resolves.toBe('sent to team@example.com');
    expect(sent).toEqual(['team@example.com']);
  });

  it('throws HOLD_DENIED when the hold is denied, and the tool never runs', async () => {
    const { fns, sent } = emailTool(config({ enforcement: 'step_up' }));
    const call = fns.send_email({ to: 'x@evil.example' }).catch((error: unknown) => error);
    await server.decideHold('send_email', 'deny');
    expect(await call).toMatchObject({ code: 'HOLD_DENIED', toolName: 'send_email' });
    expect(sent).toEqual([]);
  });

  it('throws HOLD_TIMEOUT after stepUpTimeoutMinutes', async () => {
    const { fns, sent } = emailTool(config({ enforcement: 'step_up', stepUpTimeoutMinutes: 0.005, stepUpPollIntervalMs: 50 }));
    await expect(fns.send_email({ to: 'late@example.com' })).rejects.toMatchObject({ code: 'HOLD_TIMEOUT' });
    expect(sent).toEqual([]);
  });

  it('throws HOLD_CANCELLED when the abort signal fires during the wait', async () => {
    const controller = new AbortController();
    const { fns, sent } = emailTool(config({ enforcement: 'step_up', signal: controller.signal }));
    const call = fns.send_email({ to: 'c@example.com' }).catch((error: unknown) => error);
    setTimeout(() => controller.abort(new Error('user left')), 200);
    expect(await call).toMatchObject({ code: 'HOLD_CANCELLED' });
    expect(sent).toEqual([]);
  });

  it('does not hold in observe mode', async () => {
    const { fns, sent } = emailTool(config({ enforcement: 'observe' }));
    await expect(fns.send_email({ to: 'o@example.com' })).resolves.toBe('sent to o@example.com');
    expect(sent).toEqual(['o@example.com']);
  });
});

async function deadUrl(): Promise<string> {
  // A port that was just free: nothing listens there, so connections are refused.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('enforcer unreachable', () => {
  it.each(['block', 'step_up', 'progressive'] as const)('fails closed in %s mode, saying the enforcer was unreachable', async (enforcement) => {
    const ran: string[] = [];
    const fns = wrapToolFunctions({ read_file: async (path: string) => { ran.push(path); return 'x'; } }, config({ apiUrl: await deadUrl(), enforcement, events: { enabled: false } }));
    const refusal = await fns.read_file('/tmp/a').catch((error: unknown) => error);
    expect(refusal).toMatchObject({ code: 'ENFORCER_UNREACHABLE', toolName: 'read_file' });
    expect((refusal as Error).message).toContain('enforcer was unreachable');
    expect(ran).toEqual([]);
  });

  it('fails open in observe mode, and failOpen flips either default', async () => {
    const apiUrl = await deadUrl();
    const ran: string[] = [];
    const tool = async (path: string) => { ran.push(path); return 'x'; };
    const observe = wrapToolFunctions({ read_file: tool }, config({ apiUrl, enforcement: 'observe', events: { enabled: false } }));
    await expect(observe.read_file('/tmp/observe')).resolves.toBe('x');
    const blockOpen = wrapToolFunctions({ read_file: tool }, config({ apiUrl, enforcement: 'block', failOpen: true, events: { enabled: false } }));
    await expect(blockOpen.read_file('/tmp/open')).resolves.toBe('x');
    const observeClosed = wrapToolFunctions({ read_file: tool }, config({ apiUrl, enforcement: 'observe', failOpen: false, events: { enabled: false } }));
    await expect(observeClosed.read_file('/tmp/closed')).rejects.toMatchObject({ code: 'ENFORCER_UNREACHABLE' });
    expect(ran).toEqual(['/tmp/observe', '/tmp/open']);
  });

  it('refuses with ENFORCER_REJECTED when the server answers 4xx (a bad key), even in observe mode', async () => {
    const fns = wrapToolFunctions({ read_file: async () => 'x' }, config({ apiKey: 'tg_live_nope_nope', enforcement: 'observe', events: { enabled: false } }));
    await expect(fns.read_file('/tmp/a')).rejects.toMatchObject({ code: 'ENFORCER_REJECTED', details: { status: 401 } });
  });
});
