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
