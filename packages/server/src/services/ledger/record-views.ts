import type { LedgerRecord } from '@tollgate/core';
import type { StoredLedgerRecord } from '../../store/repositories/ledger.js';

/**
 * A record as the audit API returns it: the record's own fields (camelCase, exactly what was hashed) plus the
 * seed SDK's snake_case names (`action_type`, `action_category`, `description`, `is_violation`, `recorded_at`).
 */
export interface AuditEventView extends LedgerRecord {
  readonly id: number;
  readonly action_type: string;
  readonly action_category: string;
  readonly description: string;
  readonly is_violation: boolean;
  readonly recorded_at: string;
  readonly agent_id: string | null;
  readonly execution_id: string | null;
}

/** Parse a stored body back into its record. */
export function parseStoredRecord(stored: StoredLedgerRecord): LedgerRecord {
  return JSON.parse(stored.body) as LedgerRecord;
}

function describe(record: LedgerRecord): string {
  const data = (record.data ?? {}) as Record<string, unknown>;
  if (typeof data.description === 'string') return data.description;
  const parts = [record.type, data.toolName ?? data.tool ?? data.hostFunction, data.decision, data.reason];
  return parts.filter((part): part is string => typeof part === 'string' && part !== '').join(' ');
}

/**
 * The API view of a record.
 * @example toEventView(parseStoredRecord(row)).action_category // 'enforce'
 */
export function toEventView(record: LedgerRecord): AuditEventView {
  return {
    ...record,
    id: record.index,
    action_type: record.type,
    action_category: record.type.split('.')[0] ?? record.type,
    description: describe(record),
    is_violation: record.isViolation,
    recorded_at: record.recordedAt,
    agent_id: record.agentId,
    execution_id: record.executionId,
  };
}

const CSV_COLUMNS = ['index', 'recorded_at', 'type', 'actor', 'agent_id', 'execution_id', 'session_id', 'is_violation', 'description', 'data'] as const;

// Spreadsheet formula injection: a cell starting with = + - @ (or tab/CR) is prefixed with ' (OWASP advice), and
// every text cell is quoted: unquoted, `ok;=cmd|' /C calc'!A0` became a formula cell in spreadsheets of locales whose
// list separator is `;`, which split the cell there.
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

/**
 * CSV of records (header row first, RFC 4180 quoting).
 * @example toCsv(records).split('\r\n')[0] // 'index,recorded_at,…'
 */
export function toCsv(records: readonly LedgerRecord[]): string {
  const rows = records.map((record) => {
    const view = toEventView(record);
    const cells = [record.index, record.recordedAt, record.type, record.actor, record.agentId, record.executionId, record.sessionId, record.isViolation, view.description, record.data];
    return cells.map(csvCell).join(',');
  });
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}

/** Counts for the `summary` export. */
export interface AuditSummary {
  readonly total: number;
  readonly violations: number;
  readonly byType: Record<string, number>;
  readonly byAgent: Record<string, number>;
  readonly firstRecordedAt: string | null;
  readonly lastRecordedAt: string | null;
}

/**
 * Summary of records.
 * @example summarize(records).violations
 */
export function summarize(records: readonly LedgerRecord[]): AuditSummary {
  const byType: Record<string, number> = {};
  const byAgent: Record<string, number> = {};
  let violations = 0;
  for (const record of records) {
    byType[record.type] = (byType[record.type] ?? 0) + 1;
    if (record.agentId !== null) byAgent[record.agentId] = (byAgent[record.agentId] ?? 0) + 1;
    if (record.isViolation) violations += 1;
  }
  return {
    total: records.length,
    violations,
    byType,
    byAgent,
    firstRecordedAt: records[0]?.recordedAt ?? null,
    lastRecordedAt: records.at(-1)?.recordedAt ?? null,
  };
}
