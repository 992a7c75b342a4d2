import { setImmediate as nextTurn } from 'node:timers/promises';
import { loadPolicy, MAX_CONDITION_COST } from '@tollgate/core';
import type { CompiledPolicy } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import type { StoredDecision } from '../../store/repositories/decisions.js';
import { MAX_REPLAYED_AGENT_OUTPUTS, MAX_REPLAYED_OUTPUTS_TOTAL, MAX_REPLAY_LIMIT, replayDecisions, replayPace } from './replay.js';

// Simulate paced itself by a fixed 500 evaluations per turn of the event loop and up to 100,000 decisions,
// whatever the draft cost: a draft near the compile budget (milliseconds per evaluation) stalled every tenant's
// requests for seconds at a time and kept a core busy for minutes per request.

function compile(yaml: string): CompiledPolicy {
  const result = loadPolicy(yaml);
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  return result.policy;
}

const list = `[${Array.from({ length: 900 }, (_, index) => index).join(', ')}]`;
const costly = compile(`agents: { "*": { approvedScope: [t] } }
rules:
  - id: slow
    when: ${JSON.stringify(`${list}.all(x, ${Array.from({ length: 100 }, () => 'x').join(' + ')} > -1)`)}
    effect: BLOCK
`);
const cheap = compile('agents: { "*": { approvedScope: [t] } }\nrules:\n  - { id: r, when: "args.amount > 5", effect: BLOCK }\n');

function decision(index: number): StoredDecision {
  return {
    id: `d${index}`, seq: index, tenantId: 'acme', ts: index, agentId: 'bot', userId: 'u', sessionId: 's', toolName: 't', callId: null,
    requestedMode: 'block', mode: 'block', decision: 'ALLOW', verdict: 'ALLOW', wouldHaveBeen: null, reason: 'ok', violationId: null,
    severity: null, holdId: null, policyId: null, policyVersion: null, matchedRules: [], shadow: [], errors: [], arguments: {},
    approvedScope: null, context: {},
  };
}

const repository = (count: number) => ({
  list: async (_tenant: string, options: { afterSeq?: number | undefined; limit?: number | undefined }) => {
    const start = (options.afterSeq ?? -1) + 1;
    return Array.from({ length: Math.max(0, Math.min(options.limit ?? 1000, count - start)) }, (_, i) => decision(start + i));
  },
  outputsForSessions: async () => [],
  lastCallsBefore: async () => [],
  lastAgentCallsBefore: async () => [],
  agentViolationsBefore: async () => [],
  agentOutputs: async () => [],
});

describe('replay pacing follows the cost of the draft', () => {
  it('a costly draft yields to the event loop every few evaluations', async () => {
    expect(costly.cost).toBeGreaterThan(MAX_CONDITION_COST / 2);
    let turns = 0;
    let done = false;
    const ticker = async (): Promise<void> => {
      while (!done) {
        await nextTurn();
        turns += 1;
      }
    };
    const ticking = ticker();
    const report = await replayDecisions(repository(40), 'acme', costly).finally(() => { done = true; });
    await ticking;
    expect(report.scanned).toBe(40);
    expect(report.changed).toBe(40);
    expect(turns).toBeGreaterThanOrEqual(40 / replayPace(costly, 40).perTurn - 1);
    expect(replayPace(costly, 40).perTurn).toBeLessThanOrEqual(10);
  });

  it('a costly draft replays a bounded number of decisions, an ordinary one the whole limit', () => {
    expect(replayPace(costly, MAX_REPLAY_LIMIT).maxDecisions).toBeLessThan(MAX_REPLAY_LIMIT / 10);
    expect(replayPace(cheap, MAX_REPLAY_LIMIT)).toEqual({ perTurn: 500, maxDecisions: MAX_REPLAY_LIMIT });
    expect(replayPace(null, 10)).toEqual({ perTurn: 500, maxDecisions: 10 });
  });
});

describe('replay of agent-wide data flow holds a bounded number of outputs', () => {
  it('reads at most MAX_REPLAYED_AGENT_OUTPUTS per agent and MAX_REPLAYED_OUTPUTS_TOTAL in all, however many are stored', async () => {
    const draft = compile(`agents: { "*": { approvedScope: [t] } }
dataFlow: { sources: [{ tools: [read], label: pii }] }
rules:
  - { id: r, match: { tools: [t] }, dataFlow: { across: agent, within: 1h }, effect: BLOCK, reason: r }
`);
    const agents = 15;
    const read = new Map<string, number>();
    const endless = {
      ...repository(agents),
      list: async (_tenant: string, options: { afterSeq?: number | undefined; limit?: number | undefined }) => {
        const start = (options.afterSeq ?? -1) + 1;
        return Array.from({ length: Math.max(0, Math.min(options.limit ?? 1000, agents - start)) }, (_, i) => ({ ...decision(start + i), agentId: `agent-${start + i}` }));
      },
      // Every agent has more outputs than any bound: each page is full.
      agentOutputs: async (_tenant: string, agentId: string, query: { limit: number }) => {
        read.set(agentId, (read.get(agentId) ?? 0) + query.limit);
        return Array.from({ length: query.limit }, (_, i) => ({
          tenantId: 'acme', decisionId: `o${i}`, agentId, sessionId: 's', toolName: 'read', ts: 0, decision: 'ALLOW', reason: 'ok', taints: { added: [] }, seq: 1_000_000 - i,
        }));
      },
    };
    const report = await replayDecisions(endless, 'acme', draft);
    expect(report.scanned).toBe(agents);
    expect(Math.max(...read.values())).toBe(MAX_REPLAYED_AGENT_OUTPUTS);
    expect([...read.values()].reduce((sum, n) => sum + n, 0)).toBe(MAX_REPLAYED_OUTPUTS_TOTAL);
  });
});
