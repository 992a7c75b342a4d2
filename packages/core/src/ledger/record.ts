// The ledger record: what is appended, and how it becomes a Merkle leaf.
import { canonicalJson, canonicalJsonString } from './canonical-json.js';
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

function text(value: unknown, name: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new TypeError(`ledger entry ${name} must be a string`);
  return value;
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
    actor: text(entry.actor, 'actor'),
    agentId: text(entry.agentId, 'agentId'),
    executionId: text(entry.executionId, 'executionId'),
    sessionId: text(entry.sessionId, 'sessionId'),
    isViolation: entry.isViolation === true,
    data: entry.data ?? null,
  };
}

/**
 * Leaf bytes of a record: UTF-8 of its RFC 8785 canonical JSON.
 * @example recordLeaf(record)
 */
export function recordLeaf(record: LedgerRecord): Uint8Array {
  // The general algorithm on purpose: a verifier must hash every field it was given, including ones a forger
  // added, so that nothing it displays goes unchecked.
  return utf8Bytes(canonicalJson(record));
}

const json = (value: string | null): string => (value === null ? 'null' : canonicalJsonString(value));

/**
 * `canonicalJson(record)`, faster: the top-level keys are fixed, so only `data` needs the general algorithm
 * (this runs on every append). Equal to `canonicalJson(record)` for every record (tested).
 * @example canonicalRecordJson(record) === canonicalJson(record) // true
 */
export function canonicalRecordJson(record: LedgerRecord): string {
  if (!Number.isSafeInteger(record.index)) throw new TypeError('record index must be a safe integer');
  return (
    `{"actor":${json(record.actor)},"agentId":${json(record.agentId)},"data":${canonicalJson(record.data)}` +
    `,"executionId":${json(record.executionId)},"index":${record.index},"isViolation":${record.isViolation ? 'true' : 'false'}` +
    `,"recordedAt":${json(record.recordedAt)},"sessionId":${json(record.sessionId)},"tenantId":${json(record.tenantId)}` +
    `,"type":${json(record.type)}}`
  );
}

/**
 * Leaf hash of a record (RFC 9162: SHA-256(0x00 || leaf)).
 * @example toHex(recordLeafHash(record))
 */
export function recordLeafHash(record: LedgerRecord): Uint8Array {
  return hashLeaf(recordLeaf(record));
}
