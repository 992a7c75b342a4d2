import { describe, expect, it } from 'vitest';
import { snapshotArguments } from './argument-snapshot.js';

describe('snapshotArguments', () => {
  it('json: the tool copy is deep, fresh on every call, and equal to what is checked', () => {
    const input = { to: 'a@example.com', body: { cc: ['b@example.com'] } };
    const snapshot = snapshotArguments(input, 'json');
    input.to = 'evil@example.com';
    input.body.cc.push('drop@example.com');
    const first = snapshot.forTool() as typeof input;
    expect(first).toEqual({ to: 'a@example.com', body: { cc: ['b@example.com'] } });
    expect(snapshot.checked).toEqual(first);
    first.body.cc.push('later@example.com');
    expect(snapshot.forTool()).toEqual(snapshot.checked);
    expect(snapshot.forTool()).not.toBe(snapshot.checked);
  });

  it('json: a getter is read once, when the snapshot is taken', () => {
    let reads = 0;
    const input = { get path(): string { reads += 1; return reads === 1 ? '/tmp/a' : '/etc/shadow'; } };
    const snapshot = snapshotArguments(input, 'json');
    expect(snapshot.checked).toEqual({ path: '/tmp/a' });
    expect(snapshot.forTool()).toEqual({ path: '/tmp/a' });
    expect(reads).toBe(1);
  });

  it.each([
    ['no argument', undefined, false, null, undefined],
    ['a string', 'x', false, 'x', 'x'],
    ['a parameter list with an omitted parameter', ['x', undefined], true, ['x', null], ['x', undefined]],
    ['an array argument (not a parameter list)', ['x', undefined], false, ['x', null], ['x', null]],
    ['a Date', new Date(0), false, '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z'],
  ])('json: %s', (_name, args, parameterList, checked, forTool) => {
    const snapshot = snapshotArguments(args, 'json', parameterList);
    expect(snapshot.checked).toEqual(checked);
    expect(snapshot.forTool()).toEqual(forTool);
  });

  it('off: the tool gets the caller’s own object; the checked form is still taken once', () => {
    const input = { path: '/tmp/a' };
    const snapshot = snapshotArguments(input, 'off');
    input.path = '/etc/shadow';
    expect(snapshot.checked).toEqual({ path: '/tmp/a' });
    expect(snapshot.forTool()).toBe(input);
  });
});
