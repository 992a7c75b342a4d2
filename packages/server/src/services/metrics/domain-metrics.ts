import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EnforcementBatch } from '../../store/repositories/decisions.js';

type Labels = Record<string, string>;
type RegisteredMetric = Parameters<Registry['registerMetric']>[0];

/**
 * A counter with labels, counted with plain arithmetic and read by prom-client only when `/metrics` is scraped
 * (the same approach as the HTTP series in `http/metrics.ts`): prom-client's `inc` validates and hashes the label set
 * on every call, about a microsecond, which the per-decision counters would pay at every `/v1/enforce`.
 */
class CounterFamily {
  readonly #values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    const metric = {
      name, help, type: 'counter', aggregator: 'sum',
      get: async () => ({ name, help, type: 'counter', aggregator: 'sum', values: [...this.#values.values()].map((entry) => ({ labels: entry.labels, value: entry.value })) }),
      reset: () => this.#values.clear(),
    };
    registry.registerMetric(metric as unknown as RegisteredMetric);
  }

  /** Adds `by` to the series of `labelValues` (in `labelNames` order). */
  inc(labelValues: readonly string[], by = 1): void {
    const key = labelValues.length === 1 ? labelValues[0]! : labelValues.join('\u0000');
    let entry = this.#values.get(key);
    if (entry === undefined) {
      const labels: Labels = {};
      this.labelNames.forEach((label, i) => { labels[label] = labelValues[i] ?? ''; });
      entry = { labels, value: 0 };
      this.#values.set(key, entry);
    }
    entry.value += by;
  }
}

/** Durations of a store write (seconds): group commits take from ~0.1 ms to seconds on a struggling disk. */
const WRITE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** A label value from a bounded set: anything else is counted as `other`, so a caller cannot grow the series. */
function bounded(value: string | null | undefined, allowed: ReadonlySet<string>, absent = 'none'): string {
  if (value === null || value === undefined) return absent;
  return allowed.has(value) ? value : 'other';
}

const DECISIONS = new Set(['ALLOW', 'STEP_UP', 'BLOCK']);
const MODES = new Set(['observe', 'step_up', 'block', 'progressive']);
const SEVERITIES = new Set(['low', 'medium', 'high', 'critical']);
const DIRECTIONS = new Set(['input', 'output', 'tool_output']);
const SCAN_VERDICTS = new Set(['allow', 'review', 'block']);
const EXECUTION_STATUSES = new Set(['completed', 'failed', 'blocked', 'killed', 'timeout', 'terminated']);

/**
 * What Tollgate itself did, as Prometheus metrics on `/metrics` next to the HTTP and process series: decisions and
 * how fast they are recorded, holds, the audit ledger's signing, content-safety scans, sandbox executions, SDK events
 * and the kill switch. One place names every metric (listed in docs/operations.md, "Health, metrics, logs").
 * No metric has a tenant label: the series stay bounded however many tenants an installation has (per-tenant
 * figures are in each tenant's own API and dashboard).
 *
 * @example
 * const metrics = new DomainMetrics(registry);
 * metrics.decisionsRecorded(batch, 0.002);
 */
export class DomainMetrics {
  readonly #decisions: CounterFamily;
  readonly #outputDecisions: CounterFamily;
  readonly #violations: CounterFamily;
  readonly #holdsCreated: Counter;
  readonly #holdsResolved: Counter<'status'>;
  readonly #writeDuration: Histogram;
  readonly #writeFailures: Counter;
  readonly #ledgerRecords: Counter;
  readonly #checkpointsSigned: Counter;
  readonly #checkpointFailures: Counter;
  readonly #lastCheckpoint: Gauge;
  readonly #scans: CounterFamily;
  readonly #executions: Counter<'status'>;
  readonly #events: Counter;

  constructor(private readonly registry: Registry) {
    const registers = [registry];
    this.#decisions = new CounterFamily(registry, 'tollgate_enforce_decisions_total',
      'Recorded /v1/enforce decisions by answer (decision), what the policy said before the mode applied (verdict) and enforcement mode', ['decision', 'verdict', 'mode']);
    this.#outputDecisions = new CounterFamily(registry, 'tollgate_enforce_output_decisions_total', 'Recorded /v1/enforce/output decisions by answer', ['decision']);
    this.#violations = new CounterFamily(registry, 'tollgate_enforce_violations_total', 'Recorded policy violations by severity', ['severity']);
    this.#holdsCreated = new Counter({ name: 'tollgate_holds_created_total', help: 'Human-approval holds created (STEP_UP decisions)', registers });
    this.#holdsResolved = new Counter({ name: 'tollgate_holds_resolved_total', help: 'Holds approved, denied or expired', labelNames: ['status'], registers });
    this.#writeDuration = new Histogram({
      name: 'tollgate_decision_write_duration_seconds', help: 'Duration of each group commit of decisions, violations, holds and session state',
      buckets: WRITE_BUCKETS, registers,
    });
    this.#writeFailures = new Counter({ name: 'tollgate_decision_write_failures_total', help: 'Group commits the database refused (their calls were answered with an error)', registers });
    this.#ledgerRecords = new Counter({ name: 'tollgate_ledger_records_appended_total', help: 'Records appended to the audit ledgers by this process', registers });
    this.#checkpointsSigned = new Counter({ name: 'tollgate_ledger_checkpoints_signed_total', help: 'Ledger checkpoints signed by this process', registers });
    this.#checkpointFailures = new Counter({ name: 'tollgate_ledger_checkpoint_failures_total', help: 'Ledger checkpoint signings that failed (records stay unsigned until one succeeds)', registers });
    this.#lastCheckpoint = new Gauge({ name: 'tollgate_ledger_last_checkpoint_timestamp_seconds', help: 'When this process last signed a ledger checkpoint (Unix time; 0 before the first)', registers });
    this.#scans = new CounterFamily(registry, 'tollgate_safety_scans_total', 'Content-safety scans by direction and verdict', ['direction', 'verdict']);
    this.#executions = new Counter({ name: 'tollgate_sandbox_executions_total', help: 'Finished sandbox executions by status', labelNames: ['status'], registers });
    this.#events = new Counter({ name: 'tollgate_events_ingested_total', help: 'SDK events stored (duplicates not counted)', registers });
  }

  /** A group commit of the enforcement area succeeded after `seconds`: counts what it recorded. */
  decisionsRecorded(batch: EnforcementBatch, seconds: number): void {
    this.#writeDuration.observe(seconds);
    for (const record of batch.decisions) {
      this.#decisions.inc([bounded(record.decision, DECISIONS), bounded(record.verdict, DECISIONS), bounded(record.mode, MODES)]);
    }
    for (const output of batch.outputs) this.#outputDecisions.inc([bounded(output.decision, DECISIONS)]);
    for (const violation of batch.violations) this.#violations.inc([bounded(violation.severity, SEVERITIES)]);
    if (batch.holds.length > 0) this.#holdsCreated.inc(batch.holds.length);
  }

  /** A group commit failed. */
  decisionWriteFailed(): void {
    this.#writeFailures.inc();
  }

  /** `tollgate_decision_writer_pending`: calls waiting for their decision to be recorded, read at scrape time. */
  watchDecisionWriter(pending: () => number): void {
    this.#gauge('tollgate_decision_writer_pending', 'Calls waiting for their decision to be recorded (a growing figure means the database falls behind)', pending);
  }

  holdResolved(status: 'approved' | 'denied' | 'expired', count = 1): void {
    if (count > 0) this.#holdsResolved.inc({ status }, count);
  }

  ledgerAppended(count: number): void {
    if (count > 0) this.#ledgerRecords.inc(count);
  }

  checkpointSigned(at: number): void {
    this.#checkpointsSigned.inc();
    this.#lastCheckpoint.set(at / 1000);
  }

  checkpointFailed(): void {
    this.#checkpointFailures.inc();
  }

  /** `tollgate_ledger_unsigned_records`: records appended here and not yet covered by a signed checkpoint. */
  watchUnsignedRecords(unsigned: () => number): void {
    this.#gauge('tollgate_ledger_unsigned_records', 'Ledger records appended by this process not yet covered by a signed checkpoint (all tenants)', unsigned);
  }

  safetyScanned(direction: string, verdict: string): void {
    this.#scans.inc([bounded(direction, DIRECTIONS), bounded(verdict, SCAN_VERDICTS)]);
  }

  executionFinished(status: string): void {
    this.#executions.inc({ status: bounded(status, EXECUTION_STATUSES) });
  }

  /** `tollgate_sandbox_executions_running`: executions running in this process's sandbox workers. */
  watchRunningExecutions(running: () => number): void {
    this.#gauge('tollgate_sandbox_executions_running', 'Sandbox executions running in this process', running);
  }

  eventsIngested(count: number): void {
    if (count > 0) this.#events.inc(count);
  }

  /** `tollgate_kill_switch_halted{scope}`: tenants halted as a whole (`global`) and halted agents (`agent`). */
  watchKillSwitch(halted: () => { global: number; agents: number }): void {
    const gauge = new Gauge({
      name: 'tollgate_kill_switch_halted', help: 'Kill switches engaged: tenants halted as a whole (scope="global") and halted agents (scope="agent")',
      labelNames: ['scope'], registers: [this.registry],
      collect() {
        const now = halted();
        gauge.set({ scope: 'global' }, now.global);
        gauge.set({ scope: 'agent' }, now.agents);
      },
    });
  }

  #gauge(name: string, help: string, read: () => number): void {
    const gauge = new Gauge({ name, help, registers: [this.registry], collect() { gauge.set(read()); } });
  }
}
