import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { RetentionRepository, RetentionTarget } from '../../store/repositories/retention.js';
import type { TenantRepository } from '../../store/repositories/tenants.js';
import { RETENTION_TARGETS } from '../../store/repositories/retention.js';
import type { Clock } from '../clock.js';

const DAY_MS = 86_400_000;
/** Rows deleted per statement; the pass yields to other requests between statements. */
export const RETENTION_CHUNK = 5_000;
/** A pass runs this long after start-up, then at this interval. */
export const RETENTION_FIRST_RUN_MS = 60_000;
export const RETENTION_INTERVAL_MS = 3_600_000;

/** Rows deleted by one pass, per table. */
export type RetentionReport = Record<RetentionTarget, number>;

/**
 * Data retention (`TOLLGATE_RETENTION_DAYS`, or a tenant's own `retentionDays`): deletes decisions, violations, tool-output records, SDK events, decided
 * holds, and session and agent states idle for longer than the retention period, in chunks with a turn of the event
 * loop between them. The ledger is never touched (its records are the audit trail, and deleting any would break
 * every later proof). Off (0) by default: nothing is deleted unless a tenant sets its own period.
 *
 * @example
 * const retention = new RetentionService({ repository: store.retention, clock, logger, days: 90 });
 * retention.start(); // … await retention.close();
 */
export class RetentionService {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RetentionReport> | undefined;

  constructor(private readonly deps: {
    repository: RetentionRepository; tenants: Pick<TenantRepository, 'list'>; clock: Clock; logger: Logger; days: number; chunk?: number;
    /** Told after a tenant's rows older than `cutoff` were deleted, so in-memory copies can forget them too. */
    onCutoff?: (tenantId: string, cutoff: number) => void;
  }) {}

  /**
   * Schedules passes (first one minute after start-up, then hourly). With retention off by default a pass only reads
   * the tenant list (a tenant may set its own period, `PATCH /api/v1/tenants/{id}`).
   */
  start(): void {
    if (this.#timer) return;
    const schedule = (delay: number) => {
      this.#timer = setTimeout(() => {
        void this.runOnce().catch(() => undefined).finally(() => { if (this.#timer) schedule(RETENTION_INTERVAL_MS); });
      }, delay);
      this.#timer.unref();
    };
    schedule(RETENTION_FIRST_RUN_MS);
  }

  /** One pass now (or the one already running); resolves with what it deleted. */
  runOnce(): Promise<RetentionReport> {
    this.#running ??= this.#pass().finally(() => { this.#running = undefined; });
    return this.#running;
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  async #pass(): Promise<RetentionReport> {
    const now = this.deps.clock.now();
    const chunk = this.deps.chunk ?? RETENTION_CHUNK;
    const report = Object.fromEntries(Object.keys(RETENTION_TARGETS).map((target) => [target, 0])) as RetentionReport;
    try {
      for (const { id: tenantId, retentionDays } of await this.deps.tenants.list()) {
        // The tenant's own period, else the server's; 0 keeps everything of the tenant.
        const days = retentionDays ?? this.deps.days;
        if (days <= 0) continue;
        const cutoff = now - days * DAY_MS;
        for (const target of Object.keys(RETENTION_TARGETS) as RetentionTarget[]) {
          for (;;) {
            const deleted = await this.deps.repository.deleteBefore(target, tenantId, cutoff, chunk);
            report[target] += deleted;
            await nextTurn();
            if (deleted < chunk) break;
          }
        }
        this.deps.onCutoff?.(tenantId, cutoff);
      }
    } catch (error) {
      this.deps.logger.error({ err: error, deleted: report }, 'data retention pass failed; the next pass continues');
      throw error;
    }
    const total = Object.values(report).reduce((sum, n) => sum + n, 0);
    if (total > 0) this.deps.logger.info({ deleted: report }, 'data retention: deleted rows older than the retention periods');
    return report;
  }
}
