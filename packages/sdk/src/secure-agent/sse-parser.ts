/** One Server-Sent Event as dispatched by the parser. */
export interface SseEvent {
  type: string;
  data: string;
  id: string | undefined;
}

/**
 * Incremental parser for the `text/event-stream` format (WHATWG HTML §9.2): feed it chunks of text,
 * it calls `onEvent` for each complete event. Tracks the last event id and the server's `retry` hint.
 *
 * @example
 * const parser = new SseParser((event) => console.log(event.type, event.data));
 * parser.push('event: audit\ndata: {"a":1}\nid: 7\n\n');
 */
export class SseParser {
  lastEventId: string | undefined;
  retryMs: number | undefined;
  private buffer = '';
  private eventType = '';
  private dataLines: string[] = [];
  private sawData = false;

  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    let newline = this.findLineEnd();
    while (newline.index >= 0) {
      const line = this.buffer.slice(0, newline.index);
      this.buffer = this.buffer.slice(newline.index + newline.length);
      this.processLine(line);
      newline = this.findLineEnd();
    }
  }

  private findLineEnd(): { index: number; length: number } {
    const match = /\r\n|\r|\n/.exec(this.buffer);
    if (!match) return { index: -1, length: 0 };
    // A lone '\r' at the end of the buffer may be the first half of '\r\n': wait for more input.
    if (match[0] === '\r' && match.index === this.buffer.length - 1) return { index: -1, length: 0 };
    return { index: match.index, length: match[0].length };
  }

  private processLine(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.eventType = value;
    else if (field === 'data') {
      this.dataLines.push(value);
      this.sawData = true;
    } else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
  }

  private dispatch(): void {
    if (this.sawData) {
      this.onEvent({ type: this.eventType || 'message', data: this.dataLines.join('\n'), id: this.lastEventId });
    }
    this.eventType = '';
    this.dataLines = [];
    this.sawData = false;
  }
}
