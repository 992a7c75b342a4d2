/**
 * A small local HTTP server that plays the model: OpenAI chat completions (`POST /v1/chat/completions`,
 * plain and streamed) and Anthropic messages (`POST /v1/messages`). It answers with scripted tool
 * calls, then with text once the script runs out. It is the only fake in the SDK tests; the
 * Tollgate server in those tests is real.
 *
 * Point the real SDKs at it with `OPENAI_BASE_URL=<url>/v1` and `ANTHROPIC_BASE_URL=<url>`.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One tool call the model asks for. */
export interface ScriptedToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

/** One model turn: tool calls, or a final text. */
export type ScriptedReply = { toolCalls: ScriptedToolCall[] } | { text: string };

/** What the server saw, for assertions. */
export interface RecordedRequest {
  api: 'openai' | 'anthropic';
  body: Record<string, unknown>;
}

/** Options of {@link startFakeModelServer}. */
export interface FakeModelServerOptions {
  /** Replies in order; when exhausted the model answers `finalText`. */
  script?: ScriptedReply[];
  /** Answer once the script is used up (default "done"). */
  finalText?: string;
}

/** A running fake model server. */
export interface FakeModelServer {
  url: string;
  requests: RecordedRequest[];
  /** Replaces the remaining script. */
  setScript(script: ScriptedReply[]): void;
  close(): Promise<void>;
}

let idCounter = 0;
const nextId = (prefix: string): string => `${prefix}_${++idCounter}`;

function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function openAiMessage(reply: ScriptedReply): Record<string, unknown> {
  if ('text' in reply) return { role: 'assistant', content: reply.text, refusal: null };
  return {
    role: 'assistant',
    content: null,
    refusal: null,
    tool_calls: reply.toolCalls.map((call) => ({ id: nextId('call'), type: 'function', function: { name: call.name, arguments: JSON.stringify(call.arguments) } })),
  };
}

const USAGE = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };

function answerOpenAi(response: ServerResponse, body: Record<string, unknown>, reply: ScriptedReply): void {
  const message = openAiMessage(reply);
  const finishReason = 'text' in reply ? 'stop' : 'tool_calls';
  const base = { id: nextId('chatcmpl'), created: Math.floor(Date.now() / 1000), model: String(body.model ?? 'gpt-4o') };
  if (body.stream !== true) {
    sendJson(response, 200, { ...base, object: 'chat.completion', choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }], usage: USAGE });
    return;
  }
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const chunk = (delta: unknown, finish: string | null, extra: Record<string, unknown> = {}) =>
    response.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra })}\n\n`);
  const toolCalls = (message.tool_calls as Record<string, unknown>[] | undefined)?.map((call, index) => ({ index, ...call }));
  chunk(toolCalls ? { role: 'assistant', content: null, tool_calls: toolCalls } : { role: 'assistant', content: message.content }, null);
  chunk({}, finishReason, { usage: USAGE });
  response.end('data: [DONE]\n\n');
}

function answerAnthropic(response: ServerResponse, body: Record<string, unknown>, reply: ScriptedReply): void {
  const content =
    'text' in reply
      ? [{ type: 'text', text: reply.text }]
      : reply.toolCalls.map((call) => ({ type: 'tool_use', id: nextId('toolu'), name: call.name, input: call.arguments }));
  sendJson(response, 200, {
    id: nextId('msg'),
    type: 'message',
    role: 'assistant',
    model: String(body.model ?? 'claude'),
    content,
    stop_reason: 'text' in reply ? 'end_turn' : 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5 },
  });
}

/**
 * Starts the fake model on port 0.
 * @example
 * const model = await startFakeModelServer({ script: [{ toolCalls: [{ name: 'read_file', arguments: { path: 'a' } }] }] });
 * process.env.OPENAI_BASE_URL = `${model.url}/v1`;
 */
export async function startFakeModelServer(options: FakeModelServerOptions = {}): Promise<FakeModelServer> {
  let script = [...(options.script ?? [])];
  const requests: RecordedRequest[] = [];
  const finalText = options.finalText ?? 'done';
  const server = createServer((request, response) => {
    void (async () => {
      const path = (request.url ?? '').split('?')[0];
      if (request.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/v1/messages')) {
        sendJson(response, 404, { error: { message: `no route ${request.method} ${path}` } });
        return;
      }
      const body = await readBody(request);
      const api = path === '/v1/messages' ? 'anthropic' : 'openai';
      requests.push({ api, body });
      const reply = script.shift() ?? { text: finalText };
      if (api === 'anthropic') answerAnthropic(response, body, reply);
      else answerOpenAi(response, body, reply);
    })().catch((error: unknown) => sendJson(response, 500, { error: { message: String(error) } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setScript(next) {
      script = [...next];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
