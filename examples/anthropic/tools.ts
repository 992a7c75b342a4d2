// What the seed's Anthropic example uses without defining it: the tool definitions sent to the model
// and the two tool functions. `calls` records what really ran, for the test.
import type Anthropic from '@anthropic-ai/sdk';

export const calls: string[] = [];

export const TOOLS: Anthropic.Tool[] = [
  { name: 'search_docs', description: 'Search internal documents', input_schema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] } },
  { name: 'delete_record', description: 'Delete a record', input_schema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } },
];

export async function mySearchFn(input: { query: string }): Promise<string> {
  calls.push(`search_docs ${input.query}`);
  return `Found 1 document about ${input.query}: "Retention: 7 years".`;
}

export async function myDeleteFn(input: { id: string }): Promise<string> {
  calls.push(`delete_record ${input.id}`);
  return `deleted ${input.id}`;
}
