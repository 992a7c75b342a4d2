// The seed README's "LangChain.js Example", as written; only the package name is changed
// (`@atensec/thoth` → `@tollgate/sdk`). Two additions, marked "added": the seed uses `prompt`
// without defining it, and this file exports `result` so its test can read it.
// `langchain/agents` exists only in langchain 0.3 (in 1.x it moved to `@langchain/classic/agents`),
// so this workspace pins langchain 0.3 (see package.json).
import { AgentExecutor, createOpenAIToolsAgent } from "langchain/agents";
import { ChatOpenAI } from "@langchain/openai";
import { DynamicTool } from "@langchain/core/tools";
import { instrument } from "@tollgate/sdk";
import { ChatPromptTemplate } from "@langchain/core/prompts"; // added

// added: the prompt the seed passes to createOpenAIToolsAgent
const prompt = ChatPromptTemplate.fromMessages([
  ["system", "You are a research assistant. Use the tools."],
  ["human", "{input}"],
  ["placeholder", "{agent_scratchpad}"],
]);

const webSearch = new DynamicTool({
  name: "web_search",
  description: "Search the web for current information.",
  func: async (query: string) => {
    // your search implementation
    return `Results for: ${query}`;
  },
});

const readFile = new DynamicTool({
  name: "read_file",
  description: "Read a file from the local filesystem.",
  func: async (path: string) => {
    // your file read implementation
    return `Contents of ${path}`;
  },
});

const llm = new ChatOpenAI({ model: "gpt-4o" });
const agent = await createOpenAIToolsAgent({
  llm,
  tools: [webSearch, readFile],
  prompt,
});

const executor = new AgentExecutor({
  agent,
  tools: [webSearch, readFile],
});

// One call instruments all tools on the executor
const governed = instrument(executor, {
  agentId: "research-agent",
  approvedScope: ["web_search", "read_file"],
  tenantId: "acme-corp",
  userId: "[email protected]",
  enforcement: "block",
});

// Every tool invocation is now policy-checked
const result = await governed.invoke({
  input: "Find recent SEC filings for AAPL",
});

export { result }; // added
