import { useResource } from '../api/hooks.js';
import { policiesApi, SIMULATION_DAYS, type LintResult, type PolicyVersion, type SimulationResult } from '../api/policies.js';
import { Badge } from '../components/badge.js';
import { formatNumber, formatTime } from '../components/format.js';
import { ErrorState, Loading } from '../components/states.js';

/** Lint diagnostics with a button per line that moves the caret there. */
export function LintPanel({ result, onGoTo }: { result: LintResult | undefined; onGoTo: (line: number) => void }) {
  if (!result) return null;
  const errors = result.diagnostics.filter((item) => item.severity === 'error');
  if (result.ok && result.diagnostics.length === 0) {
    return <p className="notice notice-ok" role="status">Policy is valid.</p>;
  }
  return (
    <div className={`notice ${errors.length > 0 ? 'notice-bad' : 'notice-warn'}`} role="alert" id="policy-errors">
      <strong>
        {errors.length} error(s), {result.diagnostics.length - errors.length} warning(s)
      </strong>
      <ul className="lint-list">
        {result.diagnostics.map((issue, index) => (
          <li key={index} className="lint-item">
            <button type="button" className="link-button" onClick={() => onGoTo(issue.line)}>
              Line {issue.line}:{issue.column}
            </button>{' '}
            <Badge value={issue.severity} /> {issue.message}
            <code className="error-code">{issue.code}</code>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function DiffView({ policyId, from, to }: { policyId: string; from: number; to: number }) {
  const diff = useResource((signal) => policiesApi.diff(policyId, from, to, signal), [policyId, from, to]);
  if (diff.error) return <ErrorState error={diff.error} onRetry={diff.reload} />;
  if (!diff.data) return <Loading label="Computing diff…" />;
  const { rules } = diff.data;
  return (
    <>
      <p className="small">
        Rules added: {rules.added.join(', ') || 'none'} · removed: {rules.removed.join(', ') || 'none'} · changed:{' '}
        {rules.changed.join(', ') || 'none'}
      </p>
      <pre className="code-block diff" aria-label={`Diff from version ${from} to ${to}`}>
        {diff.data.lines.map((line, index) => (
          <span key={index} className={line.op === '+' ? 'diff-add' : line.op === '-' ? 'diff-del' : undefined}>
            {line.op} {line.text}
            {'\n'}
          </span>
        ))}
      </pre>
    </>
  );
}

function counts(record: Record<string, number>): string {
  const entries = Object.entries(record);
  return entries.length === 0 ? 'none' : entries.map(([key, value]) => `${key} ${formatNumber(value)}`).join(' · ');
}

export function SimulationReport({ result }: { result: SimulationResult }) {
  return (
    <div className="panel" role="status" aria-labelledby="simulation-title">
      <h3 id="simulation-title">Simulation over the last {SIMULATION_DAYS} days</h3>
      <dl className="facts">
        <div><dt>Decisions replayed</dt><dd>{formatNumber(result.scanned)}{result.truncated ? ' (truncated)' : ''}</dd></div>
        <div><dt>Would change</dt><dd className={result.changed > 0 ? 'tone-warn' : undefined}>{formatNumber(result.changed)}</dd></div>
        <div><dt>Unchanged</dt><dd>{formatNumber(result.unchanged)}</dd></div>
        <div><dt>Kill-switch (skipped)</dt><dd>{formatNumber(result.skipped)}</dd></div>
      </dl>
      <p className="small">Transitions: {counts(result.transitions)}</p>
      <p className="small">Recorded: {counts(result.recordedCounts)} → draft: {counts(result.replayedCounts)}</p>
      {result.examples.length > 0 ? (
        <div className="table-wrap">
          <table>
            <thead><tr><th scope="col">When</th><th scope="col">Agent</th><th scope="col">Tool</th><th scope="col">Recorded</th><th scope="col">Draft</th></tr></thead>
            <tbody>
              {result.examples.map((example) => (
                <tr key={example.decisionId}>
                  <td className="small">{formatTime(example.ts)}</td>
                  <td className="mono">{example.agentId}</td>
                  <td className="mono">{example.toolName}</td>
                  <td><Badge value={example.recorded.decision} /></td>
                  <td><Badge value={example.replayed.decision} /> <span className="small">{example.replayed.reason}</span></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

export function VersionList(props: {
  versions: readonly PolicyVersion[];
  activeVersion: number | null;
  busy: boolean;
  onOpen: (version: PolicyVersion) => void;
  onDiff: (from: number, to: number) => void;
  onActivate: (version: number) => void;
}) {
  const sorted = [...props.versions].sort((a, b) => b.version - a.version);
  return (
    <ol className="version-list">
      {sorted.map((version, index) => {
        const previous = sorted[index + 1];
        const active = version.version === props.activeVersion;
        return (
          <li key={version.version}>
            <div>
              <strong>v{version.version}</strong> {active ? <Badge value="active" /> : null}
              <span className="muted small"> {formatTime(version.createdAt)}</span>
              {version.comment ? <div className="small">{version.comment}</div> : null}
            </div>
            <div className="button-row">
              <button type="button" className="button small" onClick={() => props.onOpen(version)}>
                Open
              </button>
              {previous ? (
                <button type="button" className="button small" onClick={() => props.onDiff(previous.version, version.version)}>
                  Diff v{previous.version}
                </button>
              ) : null}
              {!active ? (
                <button type="button" className="button small button-primary" disabled={props.busy} onClick={() => props.onActivate(version.version)}>
                  Activate v{version.version}
                </button>
              ) : null}
            </div>
          </li>
        );
      })}
    </ol>
  );
}
