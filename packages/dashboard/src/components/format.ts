/** Display helpers shared by the pages. */

/**
 * Local date and time, or an em dash for nothing.
 *
 * @example
 * formatTime('2026-01-05T10:00:00Z'); // 'Jan 05, 2026, 10:00:00 AM' (locale-dependent)
 */
export function formatTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

/**
 * Milliseconds as `0.25 ms`, `12 ms` or `1.50 s`.
 *
 * @example
 * formatDuration(1500); // '1.50 s'
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return new Intl.NumberFormat().format(value);
}

export function shortHash(hash: string | null | undefined, length = 12): string {
  if (!hash) return '—';
  return hash.length > length ? `${hash.slice(0, length)}…` : hash;
}

export function toJson(value: unknown): string {
  if (value === undefined) return '';
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

/**
 * Characters that change how text reads without being seen: bidi embeddings, overrides and isolates, zero-width
 * characters, joiners, soft hyphens, BOMs (all `\p{Cf}`), and line/paragraph separators.
 */
const HIDDEN_CHARACTERS = /[\p{Cf}\u2028\u2029]/gu;

/**
 * `text` with every invisible or direction-changing character shown as a visible `⟨U+202E⟩` marker, and how many
 * there were. An approver must read what will run: `invoice\u202Efdp.sh` displayed as `invoicehs.pdf`.
 *
 * @example
 * revealHidden('invoice\u202Efdp.sh') // { text: 'invoice⟨U+202E⟩fdp.sh', hidden: 1 }
 */
export function revealHidden(text: string): { text: string; hidden: number } {
  let hidden = 0;
  const shown = text.replace(HIDDEN_CHARACTERS, (char) => {
    hidden += 1;
    return `⟨U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩`;
  });
  return { text: shown, hidden };
}
