import { safeStringify } from './redaction.js';

/**
 * How a governed call treats its arguments between the decision and the tool:
 * - `json` (default): one JSON snapshot is taken before `/v1/enforce`; the enforcer checks it and the tool
 *   receives a fresh parse of the same text, so a later change to the caller's object cannot reach the tool;
 * - `off`: the tool receives the caller's own object (the behaviour before snapshots): code that still holds
 *   it can change it while the decision or a step-up approval is pending, and the change runs unchecked.
 */
export type ArgumentSnapshotMode = 'json' | 'off';

/** Default {@link ArgumentSnapshotMode}: the tool runs with exactly the arguments that were checked. */
export const DEFAULT_ARGUMENT_SNAPSHOT: ArgumentSnapshotMode = 'json';

/** The arguments of one call, taken once before the first decision request. */
export interface ArgumentSnapshot {
  /** What every `/v1/enforce` request of the call sends (the first one and a hold's redemption). */
  readonly checked: unknown;
  /** What the tool is called with: a fresh copy of {@link checked} (`json`), or the caller's object (`off`). */
  forTool(): unknown;
}

/**
 * Takes the snapshot of a call's arguments. The JSON form is the one the SDK has always sent (see
 * `safeStringify`: bigints as strings, `Map`/`Set` contents, functions left out, a real cycle as
 * `"[Circular]"`), so the decision is about exactly what the tool then receives. When `args` is a
 * parameter list (a function with several parameters), each parameter is taken on its own so that an
 * omitted (`undefined`) parameter stays omitted for the tool instead of becoming `null`; it is sent as
 * `null`, as JSON writes it. Getters are read once, here.
 * @example
 * const snapshot = snapshotArguments({ to: 'a@example.com' }, 'json');
 * snapshot.forTool(); // { to: 'a@example.com' }, a new object each time
 */
export function snapshotArguments(args: unknown, mode: ArgumentSnapshotMode, parameterList = false): ArgumentSnapshot {
  if (mode === 'off') {
    const checked = JSON.parse(safeStringify(args ?? null)) as unknown;
    return { checked, forTool: () => args };
  }
  if (parameterList && Array.isArray(args)) {
    const texts = args.map((parameter: unknown) => (parameter === undefined ? undefined : safeStringify(parameter)));
    const parse = (absent: unknown) => texts.map((text) => (text === undefined ? absent : (JSON.parse(text) as unknown)));
    return { checked: parse(null), forTool: () => parse(undefined) };
  }
  if (args === undefined) return { checked: null, forTool: () => undefined };
  const text = safeStringify(args);
  return { checked: JSON.parse(text) as unknown, forTool: () => JSON.parse(text) as unknown };
}
