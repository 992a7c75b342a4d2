import { describe, expect, it } from 'vitest';
import { guestErrorOutcome, interruptOutcome } from './outcomes.js';
import type { RunLimits } from './protocol.js';

const limits: RunLimits = {
  memoryBytes: 64 * 1048576, stackBytes: 262144, timeoutMs: 2000, maxOutputBytes: 1024, maxLogEntries: 10,
  maxLogMessageChars: 100, maxTimers: 10,
};

describe('guestErrorOutcome', () => {
  it.each([
    [{ name: 'InternalError', message: 'stack overflow' }, 'GUEST_ERROR', false, 'STACK_OVERFLOW'],
    [{ name: 'SyntaxError', message: 'stack overflow' }, 'GUEST_ERROR', false, 'STACK_OVERFLOW'],
    [{ name: 'InternalError', message: 'out of memory' }, 'GUEST_ERROR', false, 'MEMORY_LIMIT'],
    [{ name: 'Error', message: '' }, 'GUEST_ERROR', true, 'MEMORY_LIMIT'],
    [{ name: 'SyntaxError', message: 'unexpected token' }, 'GUEST_SYNTAX_ERROR', false, 'GUEST_SYNTAX_ERROR'],
    [{ name: 'TypeError', message: 'x' }, 'GUEST_SYNTAX_ERROR', false, 'GUEST_ERROR'],
    [{ name: 'TypeError', message: 'x' }, 'GUEST_ERROR', false, 'GUEST_ERROR'],
  ] as const)('%o (%s, over memory %s) → %s', (error, code, overMemory, expected) => {
    expect(guestErrorOutcome(error, code, overMemory, limits)).toMatchObject({ kind: 'error', code: expected });
  });
});

describe('interruptOutcome', () => {
  it('names the limit in the message', () => {
    expect(interruptOutcome('TIMEOUT', limits)).toEqual({ kind: 'error', code: 'TIMEOUT', message: 'execution exceeded 2000 ms' });
    expect(interruptOutcome('MEMORY_LIMIT', limits).message).toBe('memory limit of 64 MB exceeded');
  });
});
