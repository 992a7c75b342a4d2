import { TollgateError } from '@tollgate/core';

/** Keyset position (newest first): rows strictly older than (ts, seq) come next. */
export interface KeysetPosition {
  ts: number;
  seq: number;
}

/**
 * Opaque cursor for keyset pagination.
 *
 * @example
 * encodeCursor({ ts: 1700000000000, seq: 42 }); // 'WzE3MDAwMDAwMDAwMDAsNDJd'
 */
export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.ts, position.seq])).toString('base64url');
}

/** Parses a cursor made by {@link encodeCursor}; a tampered cursor is a 400, never a 500. */
export function decodeCursor(cursor: string | undefined): KeysetPosition | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && value.every((part) => Number.isSafeInteger(part))) {
      return { ts: value[0] as number, seq: value[1] as number };
    }
  } catch {
    // fall through
  }
  throw new TollgateError('VALIDATION_FAILED', 'cursor is not a cursor this server issued', { details: [{ field: 'querystring/cursor' }] });
}

/** Parses stored JSON text, keeping unparsable text as-is. */
export function parseJsonText(text: string | null | undefined): unknown {
  if (text === null || text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
