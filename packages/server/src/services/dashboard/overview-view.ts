import { sql } from 'kysely';
import type { Store } from '../../store/index.js';

/** Buckets per chart: enough to show a trend, few enough to read on a phone. */
export const OVERVIEW_BUCKETS = 24;

export interface OverviewBucket {
  start: string;
  calls: number;
  allow: number;
  block: number;
  stepUp: number;
  violations: number;
}

function emptyBuckets(from: number, bucketMs: number): OverviewBucket[] {
  return Array.from({ length: OVERVIEW_BUCKETS }, (_, index) => ({
    start: new Date(from + index * bucketMs).toISOString(),
    calls: 0,
    allow: 0,
    block: 0,
    stepUp: 0,
    violations: 0,
  }));
}

/**
 * Calls, decisions and violations over the last `hours`, in {@link OVERVIEW_BUCKETS} buckets, grouped in
 * the database over the (tenant, ts) indexes of `decisions` and `violations`.
 *
 * @example
 * const overview = await buildOverview(store, 'acme', Date.now(), 24);
 */
export async function buildOverview(store: Store, tenantId: string, now: number, hours: number) {
  const span = hours * 60 * 60 * 1000;
  const bucketMs = Math.ceil(span / OVERVIEW_BUCKETS);
  const from = now - bucketMs * OVERVIEW_BUCKETS;
  const bucketOf = sql<number>`(ts - ${from}) / ${bucketMs}`;
  const [decisions, violations, agents, holds, permissionRequests] = await Promise.all([
    store.db
      .selectFrom('decisions')
      .select([bucketOf.as('bucket'), 'decision', (eb) => eb.fn.countAll<number>().as('count')])
      .where('tenant_id', '=', tenantId)
      .where('ts', '>=', from)
      .where('ts', '<=', now)
      .groupBy([sql`1`, 'decision'])
      .execute(),
    store.db
      .selectFrom('violations')
      .select([bucketOf.as('bucket'), (eb) => eb.fn.countAll<number>().as('count')])
      .where('tenant_id', '=', tenantId)
      .where('ts', '>=', from)
      .where('ts', '<=', now)
      .groupBy(sql`1`)
      .execute(),
    store.db
      .selectFrom('decisions')
      .select((eb) => eb.fn.count<number>('agent_id').distinct().as('count'))
      .where('tenant_id', '=', tenantId)
      .where('ts', '>=', from)
      .executeTakeFirst(),
    store.db
      .selectFrom('holds')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('tenant_id', '=', tenantId)
      .where('status', '=', 'pending')
      .where('expires_at', '>', now)
      .executeTakeFirst(),
    store.db
      .selectFrom('permission_requests')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('tenant_id', '=', tenantId)
      .where('status', '=', 'pending')
      .where('expires_at', '>', now)
      .executeTakeFirst(),
  ]);
  const buckets = emptyBuckets(from, bucketMs);
  for (const row of decisions) {
    const bucket = buckets[Math.min(OVERVIEW_BUCKETS - 1, Math.floor(Number(row.bucket)))];
    if (!bucket) continue;
    const count = Number(row.count);
    bucket.calls += count;
    if (row.decision === 'ALLOW') bucket.allow += count;
    else if (row.decision === 'BLOCK') bucket.block += count;
    else if (row.decision === 'STEP_UP') bucket.stepUp += count;
  }
  for (const row of violations) {
    const bucket = buckets[Math.min(OVERVIEW_BUCKETS - 1, Math.floor(Number(row.bucket)))];
    if (bucket) bucket.violations += Number(row.count);
  }
  const sum = (key: keyof Omit<OverviewBucket, 'start'>) => buckets.reduce((total, bucket) => total + bucket[key], 0);
  return {
    from: new Date(from).toISOString(),
    to: new Date(now).toISOString(),
    bucketMs,
    buckets,
    totals: { calls: sum('calls'), allow: sum('allow'), block: sum('block'), stepUp: sum('stepUp'), violations: sum('violations') },
    pendingApprovals: Number(holds?.count ?? 0) + Number(permissionRequests?.count ?? 0),
    agents: Number(agents?.count ?? 0),
  };
}
