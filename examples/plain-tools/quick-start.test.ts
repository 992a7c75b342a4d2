import { afterEach, describe, expect, it, vi } from 'vitest';
import { flush } from '@tollgate/sdk';
import { setUpExample, type ExampleEnvironment } from '../support/example-env.js';

let env: ExampleEnvironment | undefined;
afterEach(async () => {
  await flush(5000);
  await env?.close();
  env = undefined;
});

describe('seed Quick Start (.tools[].run)', () => {
  it('governs every tool call: allowed calls run, the email waits for a person and then goes out', async () => {
    env = await setUpExample('your-tenant-id', []);
    vi.resetModules();
    const { calls } = await import('./agent.js');
    const run = import('./quick-start.js');
    await env.server.decideHold('send_email', 'approve', env.tenant);
    const { governed, result } = await run;
    const { agent } = await import('./agent.js');
    expect(governed).toBe(agent);
    expect(result).toBe('Summary sent: Contents of /attachments/report.txt');
    expect(calls).toEqual(['web_search Summarize the attached document and send it to the team.', 'read_file /attachments/report.txt', 'send_email team@example.com']);
    await flush(5000);
    const events = await env.server.events({ agentId: 'document-summarizer' }, env.tenant);
    expect(events).toHaveLength(6);
  });
});

describe('seed Error Handling example', () => {
  it('catches ThothPolicyViolation for /etc/passwd and the file is never read', async () => {
    env = await setUpExample('acme-corp', []);
    vi.resetModules();
    const { calls } = await import('./agent.js');
    const warnings: string[] = [];
    const warn = vi.spyOn(console, 'warn').mockImplementation((message: string) => void warnings.push(message));
    const { readSystemFile } = await import('./error-handling.js');
    await expect(readSystemFile()).resolves.toEqual({ error: 'This action is not permitted under your current access policy.' });
    warn.mockRestore();
    expect(calls).toEqual([]);
    expect(warnings[0]).toBe('Blocked: read_file — system files are off limits');
    expect(warnings[1]).toMatch(/^Violation record: vio_/);
  });
});
