import { describe, expect, it } from 'vitest';
import { DecisionType, EnforcementMode, EventType, SourceType } from '@tollgate/sdk';
import { config, isBlock, isPre } from './types.js';

describe('seed TypeScript types snippet', () => {
  it('exposes the seed enums with their wire values', () => {
    expect(EnforcementMode).toEqual({ OBSERVE: 'observe', STEP_UP: 'step_up', BLOCK: 'block', PROGRESSIVE: 'progressive' });
    expect(DecisionType).toEqual({ ALLOW: 'ALLOW', STEP_UP: 'STEP_UP', BLOCK: 'BLOCK' });
    expect(EventType).toEqual({ TOOL_CALL_PRE: 'TOOL_CALL_PRE', TOOL_CALL_POST: 'TOOL_CALL_POST' });
    expect(SourceType.SDK).toBe('SDK');
    expect(config.enforcement).toBe('step_up');
    expect(isBlock({ decision: 'BLOCK' } as never)).toBe(true);
    expect(isPre({ eventType: 'TOOL_CALL_PRE', sourceType: 'SDK' } as never)).toBe(true);
  });
});
