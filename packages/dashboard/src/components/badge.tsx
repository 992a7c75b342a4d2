const TONES: Record<string, string> = {
  ALLOW: 'ok', allow: 'ok', approved: 'ok', success: 'ok', completed: 'ok', running: 'info', valid: 'ok', active: 'ok',
  BLOCK: 'bad', block: 'bad', blocked: 'bad', denied: 'bad', error: 'bad', failed: 'bad', killed: 'bad', invalid: 'bad', halted: 'bad',
  STEP_UP: 'warn', step_up: 'warn', pending: 'warn', expired: 'muted', timeout: 'warn', revoked: 'muted',
};

/** Coloured label for a decision or status; the text itself always carries the meaning. */
export function Badge({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="badge badge-muted">—</span>;
  return <span className={`badge badge-${TONES[value] ?? 'muted'}`}>{value}</span>;
}
