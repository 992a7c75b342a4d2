// What the seed's OpenAI example uses without defining it. `calls` records what really ran.
import type OpenAI from 'openai';

export const calls: string[] = [];

export const TOOLS: OpenAI.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'search_docs', description: 'Search internal documents', parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] } } },
  { type: 'function', function: { name: 'send_email', description: 'Send an email', parameters: { type: 'object', properties: { to: { type: 'string' }, body: { type: 'string' } }, required: ['to'] } } },
];

export async function mySearchFn(args: Record<string, unknown>): Promise<string> {
  calls.push(`search_docs ${String(args.query)}`);
  return `Access control doc: "least privilege".`;
}

export async function mySendEmailFn(args: Record<string, unknown>): Promise<string> {
  calls.push(`send_email ${String(args.to)}`);
  return 'sent';
}
