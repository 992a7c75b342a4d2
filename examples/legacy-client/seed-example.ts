// The seed README's "Legacy ThothClient" example, as written; only the package name is changed.
// Added (marked): the import of `agent` and one governed call, exported for the test.
import { ThothClient } from "@tollgate/sdk";
import { agent } from "../plain-tools/agent.js"; // added

const client = new ThothClient({
  tenantId: "your-tenant-id",
  userId: "[email protected]",
});

client.instrument(agent, {
  agentId: "document-summarizer",
  approvedScope: ["web_search", "read_file"],
  apiUrl: process.env.THOTH_API_URL!,
});

// Legacy aliases:
client.wrap(agent, {
  agentId: "document-summarizer",
  approvedScope: ["web_search", "read_file"],
  apiUrl: process.env.THOTH_API_URL!,
});

export const searched = await agent.tools[1]!.run("quarterly numbers"); // added
export const refused = await agent.tools[2]!.run("all@example.com").catch((error: unknown) => error); // added
