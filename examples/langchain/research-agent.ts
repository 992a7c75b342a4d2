// LangChain.js 1.x: `createAgent` with tools made by `tool()`, governed by `instrument()`.
// (The seed's AgentExecutor example runs as written on langchain 0.3 in ../langchain-0.3.)
import { createAgent, tool } from "langchain";
import { ChatOpenAI } from "@langchain/openai";
import { z } from "zod";
import { instrument } from "@tollgate/sdk/langchain";

/** What the tools really did (the test reads it). */
export const calls: string[] = [];

const readFile = tool(
  async ({ path }) => {
    calls.push(`read_file ${path}`);
    return `Contents of ${path}`;
  },
  { name: "read_file", description: "Read a file.", schema: z.object({ path: z.string() }) },
);

const deleteRecord = tool(
  async ({ id }) => {
    calls.push(`delete_record ${id}`);
    return `deleted ${id}`;
  },
  { name: "delete_record", description: "Delete a record.", schema: z.object({ id: z.string() }) },
);

/** Asks the agent a question; every tool call goes through Tollgate first. */
export async function ask(question: string): Promise<{ answer: string; toolMessages: string[] }> {
  const agent = createAgent({ model: new ChatOpenAI({ model: "gpt-4o" }), tools: [readFile, deleteRecord] });
  instrument(agent, {
    agentId: "langchain-research-agent",
    approvedScope: ["read_file", "delete_record"],
    enforcement: "block",
  });
  const result = await agent.invoke({ messages: [{ role: "user", content: question }] });
  const toolMessages = result.messages.filter((message) => message.getType() === "tool").map((message) => String(message.content));
  return { answer: String(result.messages.at(-1)?.content), toolMessages };
}
