// Shared by the enforcement benchmark: a 100-rule policy (half of them CEL) and a call generator.
export const BENCH_TOOLS = 50;

/** 100 rules over 50 tools: per tool one CEL rule over the arguments and one plain match rule. */
export function benchPolicyYaml() {
  const lines = ['name: bench-100-rules', 'agents:', '  bench-agent:', '    approvedScope: ["tool_*"]', 'rules:'];
  for (let i = 0; i < BENCH_TOOLS; i += 1) {
    lines.push(
      `  - id: cel-${i}`,
      `    match: { tools: [tool_${i}] }`,
      `    when: args.amount > ${1000 + i} && args.region != "eu"`,
      '    effect: STEP_UP',
      `    reason: large amount on tool_${i}`,
      `  - id: user-${i}`,
      `    match: { tools: [tool_${i}], users: [mallory, "intern-*"] }`,
      '    effect: BLOCK',
      `    reason: user may not call tool_${i}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Deterministic calls: every tool, amounts on both sides of the threshold, two users. */
export function benchCalls(count) {
  const calls = [];
  for (let i = 0; i < count; i += 1) {
    calls.push({
      agentId: 'bench-agent', userId: i % 7 === 0 ? 'mallory' : 'alice', sessionId: `s-${i % 10}`,
      toolName: `tool_${i % BENCH_TOOLS}`, arguments: { amount: (i * 37) % 3000, region: i % 3 === 0 ? 'eu' : 'us' },
      enforcement: 'block', now: 1_767_600_000_000 + i,
    });
  }
  return calls;
}
