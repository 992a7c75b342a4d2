const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration such as `500ms`, `30s`, `5m`, `1h` or `7d` into milliseconds.
 * Returns null for anything else (including zero and negative values).
 *
 * @example
 * parseDuration('5m') // 300000
 */
export function parseDuration(text: string): number | null {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return null;
  const amount = Number(match[1]);
  const unit = UNIT_MS[match[2] ?? ''];
  if (unit === undefined || !Number.isSafeInteger(amount) || amount <= 0) return null;
  return amount * unit;
}

/**
 * Writes milliseconds back in the largest unit of {@link parseDuration} that divides them (`3600000` → `1h`).
 *
 * @example
 * formatDuration(90_000) // '90s'
 */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
