import type { Store } from '../../store/index.js';
import { decodeCursor, encodeCursor, parseJsonText } from './cursor.js';

export interface ViolationsQuery {
  agentId?: string | undefined;
  toolName?: string | undefined;
  sessionId?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  cursor?: string | undefined;
  limit: number;
}

/** How far after a violation its ledger record is looked for (appends are group-committed, so it is close). */
const LEDGER_SEARCH_WINDOW_MS = 60_000;
/** Ledger records read per page while looking for a violation's record. */
const LEDGER_SEARCH_PAGE = 1_000;

/**
 * Violations with their full decision context (arguments, matched rules, policy version), newest first.
 *
 * @example
 * const { violations } = await listViolations(store, 'acme', { agentId: 'bot', limit: 25 });
 */
export async function listViolations(store: Store, tenantId: string, query: ViolationsQuery) {
  const before = decodeCursor(query.cursor);
  let select = store.db
    .selectFrom('violations as v')
    .leftJoin('decisions as d', (join) => join.onRef('d.tenant_id', '=', 'v.tenant_id').onRef('d.id', '=', 'v.decision_id'))
    .select([
      'v.seq', 'v.id', 'v.decision_id', 'v.ts', 'v.agent_id', 'v.user_id', 'v.session_id', 'v.tool_name', 'v.decision',
      'v.severity', 'v.reason', 'v.rule_ids', 'd.arguments', 'd.policy_version', 'd.mode', 'd.context',
    ])
    .where('v.tenant_id', '=', tenantId);
  if (query.agentId) select = select.where('v.agent_id', '=', query.agentId);
  if (query.toolName) select = select.where('v.tool_name', '=', query.toolName);
  if (query.sessionId) select = select.where('v.session_id', '=', query.sessionId);
  if (query.from !== undefined) select = select.where('v.ts', '>=', query.from);
  if (query.to !== undefined) select = select.where('v.ts', '<=', query.to);
  if (before) {
    select = select.where((eb) => eb.or([eb('v.ts', '<', before.ts), eb.and([eb('v.ts', '=', before.ts), eb('v.seq', '<', before.seq)])]));
  }
  const rows = await select.orderBy('v.ts', 'desc').orderBy('v.seq', 'desc').limit(query.limit + 1).execute();
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    violations: page.map((row) => ({
      id: row.id,
      decisionId: row.decision_id,
      decision: row.decision,
      severity: row.severity,
      agentId: row.agent_id,
      sessionId: row.session_id,
      userId: row.user_id,
      toolName: row.tool_name,
      arguments: parseJsonText(row.arguments),
      context: parseJsonText(row.context),
      reason: row.reason,
      matchedRules: (parseJsonText(row.rule_ids) as string[] | null) ?? [],
      policyVersion: row.policy_version === null || row.policy_version === undefined ? null : Number(row.policy_version),
      mode: row.mode ?? null,
      createdAt: new Date(Number(row.ts)).toISOString(),
    })),
    nextCursor: rows.length > query.limit && last ? encodeCursor({ ts: Number(last.ts), seq: Number(last.seq) }) : null,
  };
}

/**
 * Index of the ledger record that logged a violation (or, failing that, its decision), found in a short time window
 * after it. The window becomes an index range by binary search over record times (the ledger has no time index, so
 * a time filter would read every record of the tenant), and is read in pages, stopping at the violation's record.
 * Undefined when not (yet) in the ledger.
 *
 * @example
 * const index = await findViolationLedgerIndex(store, 'acme', 'vio_1');
 */
export async function findViolationLedgerIndex(store: Store, tenantId: string, violationId: string): Promise<number | undefined> {
  const violation = await store.db
    .selectFrom('violations')
    .select(['decision_id', 'ts'])
    .where('tenant_id', '=', tenantId)
    .where('id', '=', violationId)
    .executeTakeFirst();
  if (!violation) return undefined;
  const ts = Number(violation.ts);
  const first = await store.ledger.firstIndexAtOrAfter(tenantId, ts - 1_000);
  const end = await store.ledger.firstIndexAtOrAfter(tenantId, ts + LEDGER_SEARCH_WINDOW_MS + 1);
  let decisionMatch: number | undefined;
  for (let after = first - 1; after < end - 1; ) {
    const page = await store.ledger.records(tenantId, { afterIndex: after, beforeIndex: end }, LEDGER_SEARCH_PAGE);
    for (const record of page) {
      if (record.body.includes(`"${violationId}"`)) return record.index;
      if (decisionMatch === undefined && record.body.includes(`"${violation.decision_id}"`)) decisionMatch = record.index;
    }
    const last = page.at(-1);
    if (last === undefined || page.length < LEDGER_SEARCH_PAGE) break;
    after = last.index;
  }
  return decisionMatch;
}
