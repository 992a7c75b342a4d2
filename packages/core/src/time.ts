// Times given by people and clients (query parameters, CLI flags): ISO 8601 dates and date-times, strictly.

/** Days in a month of a (proleptic Gregorian) year. */
function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Epoch milliseconds of an ISO 8601 date (`2026-02-01`, read as UTC midnight, or the day's last millisecond with
 * `endOfDay`) or date-time (`2026-02-01T10:00:00Z`, offsets allowed); undefined for anything else, including dates
 * that do not exist (`2026-02-30`, which `Date.parse` quietly reads as 2 March).
 *
 * @example parseIsoTime('2026-02-01') // 1769904000000
 * @example parseIsoTime('2026-02-30') // undefined
 */
export function parseIsoTime(value: string, options: { endOfDay?: boolean } = {}): number | undefined {
  const date = /^(\d{4})-(\d{2})-(\d{2})(?:$|T)/.exec(value);
  if (date === null) return undefined;
  const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  const dateOnly = value.length === 10;
  const ms = Date.parse(dateOnly ? `${value}T00:00:00.000Z` : value);
  if (Number.isNaN(ms)) return undefined;
  return dateOnly && options.endOfDay === true ? ms + 86_399_999 : ms;
}
