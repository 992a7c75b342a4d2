// The ledger record: what is appended, and how it becomes a Merkle leaf.
import { canonicalJson } from './canonical-json.js';
import { utf8Bytes } from './encoding.js';
import { hashLeaf } from './merkle-hash.js';

/** What callers append (`services.ledger.append(tenantId, entry)`). */
export interface LedgerEntry {
  /** Dotted action type, e.g. `enforce.decision`, `policy.activated`, `apikey.created`. */
  readonly type: string;
  readonly actor?: string | null;
  readonly agentId?: string | null;
  readonly executionId?: string | null;
  readonly sessionId?: string | null;
  readonly isViolation?: boolean;
  /** Any JSON; stored and hashed as canonical JSON. */
  readonly data: unknown;
}

/**
 * A stored record. Its leaf is the canonical JSON of exactly these fields, so anyone holding the record
 * can recompute its leaf hash. `index` is the position in the tenant's log (0-based) and the record id.
 */
export interface LedgerRecord {
  readonly index: number;
  readonly tenantId: string;
  readonly type: string;
  readonly recordedAt: string;
  readonly actor: string | null;
  readonly agentId: string | null;
  readonly executionId: string | null;
  readonly sessionId: string | null;
  readonly isViolation: boolean;
  readonly data: unknown;
}

/**
 * Make the record for an entry (absent optional fields become null, so the leaf is unambiguous).
 * @example toLedgerRecord('acme', 0, '2026-01-01T00:00:00.000Z', { type: 'policy.activated', data: {} })
 */
export function toLedgerRecord(tenantId: string, index: number, recordedAt: string, entry: LedgerEntry): LedgerRecord {
  return {
    index,
    tenantId,
    type: entry.type,
    recordedAt,
    actor: entry.actor ?? null,
    agentId: entry.agentId ?? null,
    executionId: entry.executionId ?? null,
    sessionId: entry.sessionId ?? null,
    isViolation: entry.isViolation ?? false,
    data: entry.data ?? null,
  };
}

/**
 * Leaf bytes of a record: UTF-8 of its RFC 8785 canonical JSON.
 * @example recordLeaf(record)
 */
export function recordLeaf(record: LedgerRecord): Uint8Array {
  return utf8Bytes(canonicalJson(record));
}

/**
 * Leaf hash of a record (RFC 9162: SHA-256(0x00 || leaf)).
 * @example toHex(recordLeafHash(record))
 */
export function recordLeafHash(record: LedgerRecord): Uint8Array {
  return hashLeaf(recordLeaf(record));
}
