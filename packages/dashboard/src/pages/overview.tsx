import { useState } from 'react';
import { api } from '../api/client.js';
import { useResource } from '../api/hooks.js';
import type { Overview } from '../api/types.js';
import { Resolved } from '../components/states.js';
import { TimeChart } from '../components/time-chart.js';
import { formatNumber } from '../components/format.js';
import { Link } from '../router.js';
import type { PageProps } from '../app.js';

const RANGES = [
  { hours: 1, label: 'Last hour' },
  { hours: 24, label: 'Last 24 hours' },
  { hours: 24 * 7, label: 'Last 7 days' },
];

function bucketLabel(iso: string, hours: number): string {
  const date = new Date(iso);
  return hours > 24
    ? date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })
    : date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

export function OverviewPage(_props: PageProps) {
  const [hours, setHours] = useState(24);
  const overview = useResource((signal) => api.get<Overview>('/api/v1/dashboard/overview', { hours }, signal), [hours]);

  return (
    <section aria-labelledby="overview-title">
      <div className="page-header">
        <h1 id="overview-title">Overview</h1>
        <label className="inline-field">
          <span>Range</span>
          <select value={hours} onChange={(event) => setHours(Number(event.target.value))}>
            {RANGES.map((range) => (
              <option key={range.hours} value={range.hours}>
                {range.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Resolved {...overview}>
        {(data) => {
          const labels = data.buckets.map((bucket) => bucketLabel(bucket.start, hours));
          return (
            <>
              <dl className="stats">
                <div><dt>Tool calls</dt><dd>{formatNumber(data.totals.calls)}</dd></div>
                <div><dt>Blocked</dt><dd className="tone-bad">{formatNumber(data.totals.block)}</dd></div>
                <div><dt>Step-up</dt><dd className="tone-warn">{formatNumber(data.totals.stepUp)}</dd></div>
                <div><dt>Violations</dt><dd className="tone-bad"><Link href="/violations">{formatNumber(data.totals.violations)}</Link></dd></div>
                <div><dt>Pending approvals</dt><dd><Link href="/approvals">{formatNumber(data.pendingApprovals)}</Link></dd></div>
                <div><dt>Agents seen</dt><dd>{formatNumber(data.agents)}</dd></div>
              </dl>
              {data.totals.calls === 0 ? (
                <p className="muted">
                  No tool calls in this range yet. Instrument an agent with <code>@tollgate/sdk</code> and its calls appear here.
                </p>
              ) : null}
              <div className="chart-grid-layout">
                <TimeChart
                  title="Calls"
                  labels={labels}
                  series={[{ name: 'Calls', tone: 'info', values: data.buckets.map((bucket) => bucket.calls) }]}
                />
                <TimeChart
                  title="Decisions"
                  labels={labels}
                  series={[
                    { name: 'Allowed', tone: 'ok', values: data.buckets.map((bucket) => bucket.allow) },
                    { name: 'Step-up', tone: 'warn', values: data.buckets.map((bucket) => bucket.stepUp) },
                    { name: 'Blocked', tone: 'bad', values: data.buckets.map((bucket) => bucket.block) },
                  ]}
                />
                <TimeChart
                  title="Violations"
                  labels={labels}
                  series={[{ name: 'Violations', tone: 'bad', values: data.buckets.map((bucket) => bucket.violations) }]}
                />
              </div>
            </>
          );
        }}
      </Resolved>
    </section>
  );
}
