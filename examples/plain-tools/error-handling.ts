// The seed README's "Error Handling" example, as written; only the package name is changed.
// The seed's snippet ends in `return { error: … }`, so it is the body of a function here (added).
import { instrument, ThothPolicyViolation } from "@tollgate/sdk";
import { createAgent } from "./agent.js"; // added

export async function readSystemFile() { // added
const agent = createAgent(); // added

const governed = instrument(agent, {
  agentId: "sensitive-agent",
  approvedScope: ["read_file"],
  tenantId: "acme-corp",
  enforcement: "block",
});

try {
  const result = await governed.tools[0].run("/etc/passwd");
} catch (err) {
  if (err instanceof ThothPolicyViolation) {
    // err.toolName    — the tool that was blocked
    // err.reason      — human-readable policy reason
    // err.violationId — reference ID for the violation record in the Maat dashboard
    console.warn(`Blocked: ${err.toolName} — ${err.reason}`);
    if (err.violationId) {
      console.warn(`Violation record: ${err.violationId}`);
    }
    return {
      error: "This action is not permitted under your current access policy.",
    };
  }
  throw err;
}
} // added
