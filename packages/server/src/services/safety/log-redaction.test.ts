import { describe, expect, it } from 'vitest';
import { createLogger } from '../../http/logger.js';

describe('server logger', () => {
  it('masks secrets found by the content-safety rules in logged objects and messages', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    const token = ['xoxb', '-', '123456789012', '-', '123456789012', '-', 'AbCdEfGhIjKlMnOpQrStUvWx'].join('');
    logger.info({ tool: 'slack.post', args: { auth: `Bearer ${token}`, count: 2 } }, `posting with ${token}`);
    logger.info('format %s', token);
    const text = lines.join('');
    expect(text).not.toContain(token);
    const [first, second] = lines.map((l) => JSON.parse(l) as { args?: { auth: string; count: number }; msg: string });
    expect(first).toMatchObject({ args: { auth: 'Bearer [REDACTED:slack-bot-token]', count: 2 }, msg: 'posting with [REDACTED:slack-bot-token]' });
    expect(second?.msg).toBe('format [REDACTED:slack-bot-token]');
  });
});

describe('server logger with framework objects', () => {
  it('leaves class instances (requests, errors) to their serializers and survives cycles', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const token = ['glpat', '-', 'Xk3mP9qLr2Vn8Tz4Wb6Y'].join('');
    logger.info({ err: new Error('boom'), when: new Date(0), data: { cyclic, note: `key ${token}` } }, 'framework-style record');
    const record = JSON.parse(lines[0] ?? '{}') as { err?: { message: string }; when?: string; data?: { note: string } };
    expect(record.err?.message).toBe('boom');
    expect(record.when).toBe('1970-01-01T00:00:00.000Z');
    expect(record.data?.note).toBe('key [REDACTED:gitlab-pat]');
  });
});

describe('request logging through Fastify', () => {
  it('logs requests normally and masks a secret in the URL', async () => {
    const { default: Fastify } = await import('fastify');
    const lines: string[] = [];
    const app = Fastify({ loggerInstance: createLogger('info', { write: (line: string) => void lines.push(line) }) });
    app.get('/hook', async () => ({ ok: true }));
    const token = ['xoxb', '-', '123456789012', '-', '123456789012', '-', 'AbCdEfGhIjKlMnOpQrStUvWx'].join('');
    const res = await app.inject({ method: 'GET', url: `/hook?token=${token}` });
    await app.close();
    expect(res.statusCode).toBe(200);
    const records = lines.map((l) => JSON.parse(l) as { msg?: string; req?: { method: string; url: string }; res?: { statusCode: number } });
    expect(records.find((r) => r.req)?.req).toMatchObject({ method: 'GET' });
    expect(records.find((r) => r.res)?.res?.statusCode).toBe(200);
    expect(lines.join('')).not.toContain(token);
  });
});
