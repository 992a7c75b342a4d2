import { describe, expect, it } from 'vitest';
import { compileCondition, createCelEnvironment } from './cel.js';
import type { CompiledCondition } from './cel.js';
import { DEFAULT_CEL_RUN_LIMITS } from './cel-guard.js';
import { loadPolicy } from './compile.js';
import { evaluatePolicy } from './evaluate.js';
import { createSessionState } from './session-state.js';

// Defence in depth behind the compile-time estimate: the interpreter had no limit at all, so any mistake in the
// estimate held the event loop or exhausted the heap for every tenant.

function conditionOf(expression: string, limits = DEFAULT_CEL_RUN_LIMITS): CompiledCondition {
  const result = compileCondition(createCelEnvironment(), expression, limits);
  if ('error' in result) throw new Error(result.error.message);
  return result.condition;
}

describe('a condition stops at its run-time limits', () => {
  const items = (count: number) => Array.from({ length: count }, () => 0);

  it('past the step limit it returns an error, and the next evaluation starts afresh', () => {
    const condition = conditionOf('args.items.exists(i, i == -1)', { ...DEFAULT_CEL_RUN_LIMITS, maxSteps: 1_000 });
    const stopped = condition({ args: { items: items(2_000) } });
    expect(stopped).toBeInstanceOf(Error);
    expect((stopped as Error).message).toContain('more than 1000 evaluation steps');
    expect(condition({ args: { items: items(50) } })).toBe(false);
  });

  it('a value past the size limit is an error', () => {
    const condition = conditionOf('(args.s + args.s).size() > 0', { ...DEFAULT_CEL_RUN_LIMITS, maxValueSize: 1_000 });
    expect((condition({ args: { s: 'x'.repeat(600) } }) as Error).message).toContain('more than 1000 characters or elements');
    expect(condition({ args: { s: 'x'.repeat(400) } })).toBe(true);
  });

  it('past the time limit it returns an error, though each step was allowed (a step can scan a whole argument)', () => {
    const words = Array.from({ length: 100 }, (_, index) => `"w${index}"`).join(', ');
    const condition = conditionOf(`[${words}].exists(w, args.body.contains(w + "!"))`, { ...DEFAULT_CEL_RUN_LIMITS, maxMilliseconds: 20 });
    const started = performance.now();
    const stopped = condition({ args: { body: 'w'.repeat(4_000_000) } });
    expect((stopped as Error).message).toContain('more than 20 ms');
    expect(performance.now() - started).toBeLessThan(400);
    expect(condition({ args: { body: 'short' } })).toBe(false);
  });

  it('each condition has its own limits, though the conditions of a policy share one interpreter', () => {
    const env = createCelEnvironment();
    const tight = compileCondition(env, 'args.items.exists(i, i == -1)', { ...DEFAULT_CEL_RUN_LIMITS, maxSteps: 100 });
    const loose = compileCondition(env, 'args.items.exists(i, i == -1)');
    if ('error' in tight || 'error' in loose) throw new Error('does not compile');
    const context = { args: { items: items(500) } };
    expect(tight.condition(context)).toBeInstanceOf(Error);
    expect(loose.condition(context)).toBe(false);
    expect(env.evaluate('[1, 2, 3].exists(x, x == 3)')).toBe(true);
  });

  it('through the engine, a BLOCK rule whose condition is stopped applies (fails closed)', () => {
    const loaded = loadPolicy('agents: { bot: { approvedScope: [t] } }\nrules:\n  - { id: r, match: { tools: [t] }, when: "args.items.exists(i, i == -1 || i == -2)", effect: BLOCK }\n');
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
    // 2.5 million elements × about 8 steps each: past the default limit of 10 million.
    const input = { agentId: 'bot', userId: 'u', sessionId: 's', toolName: 't', enforcement: 'block' as const, now: 0, arguments: { items: items(2_500_000) } };
    const started = performance.now();
    const result = evaluatePolicy(loaded.policy, input, { session: createSessionState() });
    expect(result.decision).toBe('BLOCK');
    expect(result.reason).toContain('evaluation steps (the run-time limit of a condition)');
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
