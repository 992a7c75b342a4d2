import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from './sse-parser.js';

function parse(chunks: string[]): { events: SseEvent[]; parser: SseParser } {
  const events: SseEvent[] = [];
  const parser = new SseParser((event) => events.push(event));
  for (const chunk of chunks) parser.push(chunk);
  return { events, parser };
}

describe('SseParser', () => {
  it.each([
    ['one event', ['event: audit\ndata: {"a":1}\nid: 7\n\n'], [{ type: 'audit', data: '{"a":1}', id: '7' }]],
    ['default type is message', ['data: x\n\n'], [{ type: 'message', data: 'x', id: undefined }]],
    ['multi-line data joined by \\n', ['data: a\ndata: b\n\n'], [{ type: 'message', data: 'a\nb', id: undefined }]],
    ['CRLF line ends', ['event: e\r\ndata: 1\r\n\r\n'], [{ type: 'e', data: '1', id: undefined }]],
    ['CR split across chunks', ['data: 1\r', '\n\r\n'], [{ type: 'message', data: '1', id: undefined }]],
    ['comments (keepalive) ignored', [': keepalive\n\n', 'data: z\n\n'], [{ type: 'message', data: 'z', id: undefined }]],
    ['event split mid-field', ['ev', 'ent: au', 'dit\nda', 'ta: {}\n', '\n'], [{ type: 'audit', data: '{}', id: undefined }]],
    ['no space after colon', ['data:x\n\n'], [{ type: 'message', data: 'x', id: undefined }]],
    ['incomplete event not dispatched', ['data: x\n'], []],
    ['event without data not dispatched', ['event: ping\n\n'], []],
  ])('%s', (_name, chunks, expected) => {
    expect(parse(chunks).events).toEqual(expected);
  });

  it('keeps the last event id and retry hint across events', () => {
    const { parser } = parse(['id: 3\nretry: 250\ndata: a\n\n', 'data: b\n\n']);
    expect(parser.lastEventId).toBe('3');
    expect(parser.retryMs).toBe(250);
  });

  it('ignores a non-numeric retry and an id containing NUL', () => {
    const { parser } = parse(['id: 1\ndata: a\n\n', 'retry: soon\nid: 2\u0000\ndata: b\n\n']);
    expect(parser.lastEventId).toBe('1');
    expect(parser.retryMs).toBeUndefined();
  });
});
