import type { Decision, EnforcementMode } from './types.js';
import { DEFAULT_PROGRESSIVE_BLOCK_AFTER } from './validate.js';

const RANK: Readonly<Record<Decision, number>> = { ALLOW: 0, STEP_UP: 1, BLOCK: 2 };

/**
 * The stronger of two decisions (deny overrides).
 *
 * @example
 * strongest('STEP_UP', 'BLOCK') // 'BLOCK'
 */
export function strongest(a: Decision, b: Decision): Decision {
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * Turns the policy's verdict into the decision of an enforcement mode (seed 000):
 * - `observe`: always ALLOW (the verdict is reported as `wouldHaveBeen`);
 * - `block`: the verdict as is;
 * - `step_up`: a BLOCK becomes STEP_UP, so a human decides;
 * - `progressive`: a violation is STEP_UP until the `blockAfter`-th violation, then BLOCK; `previousViolations` are
 *   the session's, or the agent's within the window for `progressive.across: agent` (`counted` says which).
 *
 * `note` explains a changed decision and is appended to the reason.
 *
 * @example
 * applyMode('progressive', 'BLOCK', true, 0, 2) // { decision: 'STEP_UP', note: ' (progressive: violation 1, BLOCK from 2)' }
 */
export function applyMode(
  mode: EnforcementMode,
  verdict: Decision,
  violation: boolean,
  previousViolations: number,
  blockAfter = DEFAULT_PROGRESSIVE_BLOCK_AFTER,
  counted = 'in this session',
): { decision: Decision; note: string } {
  switch (mode) {
    case 'observe':
      return { decision: 'ALLOW', note: verdict === 'ALLOW' ? '' : ` (observe mode: would have been ${verdict})` };
    case 'block':
      return { decision: verdict, note: '' };
    case 'step_up':
      return verdict === 'BLOCK' ? { decision: 'STEP_UP', note: ' (step_up mode: a human decides)' } : { decision: verdict, note: '' };
    case 'progressive': {
      if (!violation) return { decision: verdict, note: '' };
      const count = previousViolations + 1;
      const decision: Decision = count >= blockAfter ? 'BLOCK' : 'STEP_UP';
      return { decision, note: ` (progressive: violation ${count} ${counted}, BLOCK from ${blockAfter})` };
    }
  }
}
