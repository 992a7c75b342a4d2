import type { RunLimits, RunOutcome } from './protocol.js';

/** Why the interrupt handler (or the idle deadline / an abort) stopped the guest. */
export type InterruptReason = 'TIMEOUT' | 'MEMORY_LIMIT' | 'KILLED';

/**
 * The outcome for an interrupted run.
 *
 * @example
 * interruptOutcome('TIMEOUT', limits); // { kind: 'error', code: 'TIMEOUT', message: 'execution exceeded 2000 ms' }
 */
export function interruptOutcome(reason: InterruptReason, limits: RunLimits): RunOutcome {
  const messages: Record<InterruptReason, string> = {
    TIMEOUT: `execution exceeded ${limits.timeoutMs} ms`,
    MEMORY_LIMIT: memoryMessage(limits),
    KILLED: 'execution was killed',
  };
  return { kind: 'error', code: reason, message: messages[reason] };
}

/**
 * The outcome for a guest error, by what QuickJS threw: its stack and memory errors become limit outcomes
 * (a guest can forge those names, which only misclassifies its own failure).
 *
 * @example
 * guestErrorOutcome({ name: 'TypeError', message: 'x' }, 'GUEST_ERROR', false, limits); // GUEST_ERROR "TypeError: x"
 */
export function guestErrorOutcome(
  error: { name: string; message: string }, code: 'GUEST_ERROR' | 'GUEST_SYNTAX_ERROR', overMemory: boolean, limits: RunLimits,
): RunOutcome {
  const { name, message } = error;
  // QuickJS reports its stack limit as InternalError (interpreter) or SyntaxError (parser, e.g. deep JSON.parse).
  if (message === 'stack overflow' && (name === 'InternalError' || name === 'SyntaxError' || name === 'RangeError')) {
    return { kind: 'error', code: 'STACK_OVERFLOW', message: 'maximum stack size exceeded' };
  }
  if ((name === 'InternalError' && message === 'out of memory') || overMemory) {
    return { kind: 'error', code: 'MEMORY_LIMIT', message: memoryMessage(limits) };
  }
  const finalCode = code === 'GUEST_SYNTAX_ERROR' && name !== 'SyntaxError' ? 'GUEST_ERROR' : code;
  return { kind: 'error', code: finalCode, message: `${name}: ${message}` };
}

function memoryMessage(limits: RunLimits): string {
  return `memory limit of ${limits.memoryBytes / 1048576} MB exceeded`;
}
