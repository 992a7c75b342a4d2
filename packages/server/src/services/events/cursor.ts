import { TollgateError } from '@tollgate/core';

/** A keyset position: events strictly older than (ts, seq) come next. */
export interface EventCursor {
  ts: number;
  seq: number;
}

/**
 * Opaque cursor for `GET /api/v1/events`: base64url of `<ts>.<seq>`.
 * @example
 * encodeCursor({ ts: 1700000000000, seq: 42 }); // 'MTcwMDAwMDAwMDAwMC40Mg'
 */
export function encodeCursor(position: EventCursor): string {
  return Buffer.from(`${position.ts}.${position.seq}`, 'utf8').toString('base64url');
}

/**
 * Parses a cursor made by {@link encodeCursor}; anything else is a 400 VALIDATION_FAILED. `ts` is the SDK's
 * timestamp and may be negative (an event dated before 1970), so the server must accept the cursors it issues then.
 */
export function decodeCursor(cursor: string): EventCursor {
  const match = /^(-?\d{1,16})\.(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new TollgateError('VALIDATION_FAILED', 'cursor is not valid', { details: [{ field: 'querystring/cursor' }] });
  return { ts: Number(match[1]), seq: Number(match[2]) };
}
