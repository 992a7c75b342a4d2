import { request as httpRequest } from 'node:http';

/** What {@link rawRequest} got back. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** True when the response was an event stream and was cut after its headers. */
  streamed: boolean;
}

/** Options of {@link rawRequest}. */
export interface RawRequestOptions {
  method: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  timeoutMs?: number;
}

/**
 * Sends exactly the given bytes (no client-side JSON handling) and reads the response. Event streams are cut
 * after the headers. A server answering before the whole body is sent (e.g. 413) is reported, not thrown.
 *
 * @example
 * const res = await rawRequest(`${url}/api/v1/keys`, { method: 'POST', body: '{"broken":', headers: { 'content-type': 'application/json' } });
 */
export function rawRequest(url: string, options: RawRequestOptions): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body);
    const headers = { ...options.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
    let settled = false;
    const finish = (fn: () => void) => {
      if (!settled) {
        settled = true;
        fn();
      }
    };
    const req = httpRequest(url, { method: options.method, headers, agent: false }, (res) => {
      const contentType = String(res.headers['content-type'] ?? '');
      if (contentType.startsWith('text/event-stream')) {
        finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: '', streamed: true }));
        req.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), streamed: false })));
      res.on('error', (error) => finish(() => reject(error)));
    });
    req.setTimeout(options.timeoutMs ?? 15_000, () => {
      req.destroy(new Error(`${options.method} ${url} timed out`));
    });
    req.on('error', (error) => finish(() => reject(error)));
    if (body) req.write(body);
    req.end();
  });
}
