import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { lazyChildLoggerFactory } from './lazy-logger.js';
import { createLogger } from './logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, destination };
}

describe('request loggers', () => {
  it('carry the request id, honour the level and redact keys and secrets', async () => {
    const { lines, destination } = capture();
    const child = lazyChildLoggerFactory(createLogger('info', destination), { reqId: 'req-1' }, {});
    child.debug('not at info');
    child.info({ req: { headers: { authorization: 'Bearer tg_live_x_y', 'x-api-key': 'tg_live_a_b' } }, secret: 's3', nested: { token: 't' } }, 'hello');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reqId: 'req-1', msg: 'hello', secret: '[redacted]', nested: { token: '[redacted]' } });
    expect(JSON.stringify(lines[0])).not.toMatch(/tg_live_|s3/);
  });
});
