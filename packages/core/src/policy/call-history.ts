/** How many tools a call history keeps, and which it forgets last. */
export interface CallHistoryLimits {
  /** Most tools remembered; the least recently called are forgotten first. */
  readonly maxTools?: number;
  /**
   * True for a tool a sequence rule of the active policy names (`CompiledPolicy.sessionHistoryReads` /
   * `agentHistoryReads`): forgotten only once no other tool is left to forget, so calling many harmless tools cannot
   * push `read_customer` out of a history before an e-mail.
   */
  readonly keep?: ((toolName: string) => boolean) | null;
}

/**
 * Sets `toolName`'s latest call time to `at` in a tool → time map (in place; a time never moves back), then forgets
 * tools past `maxTools` (see {@link CallHistoryLimits}). Map order is least recently called first, which only
 * matters once tools may be forgotten: below half the limit a tool is updated where it stands (a re-insert on every
 * call costs two more hash operations).
 */
export function rememberCall(lastCallAt: Map<string, number>, toolName: string, at: number, maxTools: number, keep: CallHistoryLimits['keep']): void {
  const previous = lastCallAt.get(toolName);
  if (previous !== undefined && previous > at) return;
  if (previous !== undefined && lastCallAt.size >= maxTools / 2) lastCallAt.delete(toolName);
  lastCallAt.set(toolName, at);
  if (lastCallAt.size <= maxTools) return;
  if (keep) {
    for (const oldest of lastCallAt.keys()) {
      if (lastCallAt.size <= maxTools) return;
      if (!keep(oldest)) lastCallAt.delete(oldest);
    }
  }
  for (const oldest of lastCallAt.keys()) {
    if (lastCallAt.size <= maxTools) return;
    lastCallAt.delete(oldest);
  }
}
