// The seed README's "Anthropic Claude" example, as written; only the package name is changed
// (`@atensec/thoth` → `@tollgate/sdk`). Added: the import of what the seed leaves undefined
// (TOOLS, mySearchFn, myDeleteFn), marked "added".
import Anthropic from "@anthropic-ai/sdk";
import { wrapAnthropicTools } from "@tollgate/sdk/anthropic";
// or: import { wrapAnthropicTools } from "@tollgate/sdk";
import { TOOLS, mySearchFn, myDeleteFn } from "./tools.js"; // added

const client = new Anthropic();

const wrappedFns = wrapAnthropicTools(
  { search_docs: mySearchFn, delete_record: myDeleteFn },
  {
    agentId: "claude-research-agent",
    approvedScope: ["search_docs"],
    tenantId: "acme-corp",
    apiUrl: "https://enforce.acme-corp.atensecurity.com",
    userId: "[email protected]",
    enforcement: "step_up",
  },
);

const messages: Anthropic.MessageParam[] = [
  { role: "user", content: "Find our data retention policy." },
];

while (true) {
  const response = await client.messages.create({
    model: "claude-opus-4-6",
    max_tokens: 1024,
    tools: TOOLS,
    messages,
  });
  if (response.stop_reason === "end_turn") break;
  const toolResults: Anthropic.ToolResultBlockParam[] = [];
  for (const block of response.content) {
    if (block.type === "tool_use") {
      const fn = wrappedFns[block.name];
      if (fn) {
        const result = await fn(block.input); // governance runs here
        toolResults.push({
          type: "tool_result",
          tool_use_id: block.id,
          content: String(result),
        });
      }
    }
  }
  messages.push({ role: "assistant", content: response.content });
  messages.push({ role: "user", content: toolResults });
}
