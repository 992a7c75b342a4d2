import { api } from '../api/client.js';
import { useResource } from '../api/hooks.js';
import type { SessionSummary, ToolCall } from '../api/types.js';
import { Badge } from '../components/badge.js';
import { FilterBar } from '../components/filter-bar.js';
import { formatDuration, formatNumber, formatTime, toJson } from '../components/format.js';
import { Pager } from '../components/pager.js';
import { Empty, Resolved } from '../components/states.js';
import { useCursorPages } from '../components/use-cursor-pages.js';
import { Link, setQuery } from '../router.js';
import type { PageProps } from '../app.js';

const PAGE_SIZE = 50;

const OUTCOMES = [
  { value: '', label: 'Any outcome' },
  { value: 'success', label: 'Succeeded' },
  { value: 'blocked', label: 'Blocked' },
  { value: 'error', label: 'Failed' },
];

function SessionList({ agentId, selected }: { agentId: string; selected: string }) {
  const pages = useCursorPages(agentId);
  const sessions = useResource(
    (signal) =>
      api.get<{ sessions: SessionSummary[]; nextCursor: string | null }>(
        '/api/v1/dashboard/sessions',
        { agentId, cursor: pages.cursor, limit: PAGE_SIZE },
        signal,
      ),
    [agentId, pages.cursor],
  );
  return (
    <div className="panel" aria-labelledby="session-list-title">
      <h2 id="session-list-title">Sessions</h2>
      <Resolved
        {...sessions}
        isEmpty={(data) => data.sessions.length === 0}
        empty={<Empty title="No sessions recorded">Tool calls from SDK-instrumented agents are grouped here by session.</Empty>}
      >
        {(data) => (
          <>
            <ul className="session-list">
              {data.sessions.map((session) => (
                <li key={`${session.agentId}\n${session.sessionId}`}>
                  <Link
                    href={`/sessions?${new URLSearchParams({ ...(agentId ? { agentId } : {}), sessionId: session.sessionId })}`}
                    aria-current={session.sessionId === selected ? 'true' : undefined}
                    className="session-link"
                  >
                    <span className="session-agent">{session.agentId}</span>
                    <span className="mono small">{session.sessionId}</span>
                    <span className="small muted">
                      {formatNumber(session.calls)} calls · {formatNumber(session.blocked)} blocked · {formatTime(session.lastAt)}
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
            <Pager label="Session pages" hasPrevious={pages.hasPrevious} nextCursor={data.nextCursor} onPrevious={pages.previous} onNext={pages.next} />
          </>
        )}
      </Resolved>
    </div>
  );
}

/** What the SDK's `redaction` setting kept of the arguments. */
const REDACTION_LABELS: Record<string, string> = {
  full: 'recorded in full',
  hashed: 'only a SHA-256 was recorded',
  none: 'not recorded (redaction: none)',
};

function CallRow({ call }: { call: ToolCall }) {
  return (
    <li className={`timeline-item decision-${call.decision ?? 'none'}`}>
      <div className="timeline-head">
        <Badge value={call.decision ?? call.outcome} />
        <strong className="mono">{call.toolName}</strong>
        <span className="muted small">{formatTime(call.timestamp)}</span>
        <span className="muted small">{formatDuration(call.durationMs)}</span>
        {call.outcome && call.decision ? <span className="small">outcome: {call.outcome}</span> : null}
      </div>
      {call.reason && call.decision !== 'ALLOW' ? <p className="small call-reason">{call.reason}</p> : null}
      <details>
        <summary>
          Arguments <span className="muted small">({REDACTION_LABELS[call.redaction ?? ''] ?? call.redaction})</span>
        </summary>
        <pre className="code-block">{call.arguments === undefined || call.arguments === null ? '(not recorded)' : toJson(call.arguments)}</pre>
        <p className="small muted">
          call <span className="mono">{call.callId}</span>
          {call.decisionId ? <> · decision <span className="mono">{call.decisionId}</span></> : null}
          {call.violationId ? <> · <Link href={`/violations?sessionId=${encodeURIComponent(call.sessionId)}`}>violation {call.violationId}</Link></> : null}
          {call.error ? <> · error: {call.error}</> : null}
        </p>
      </details>
    </li>
  );
}

function Timeline({ sessionId, agentId, toolName, outcome }: { sessionId: string; agentId: string; toolName: string; outcome: string }) {
  const resetKey = [sessionId, agentId, toolName, outcome].join('|');
  const pages = useCursorPages(resetKey);
  const calls = useResource(
    (signal) =>
      api.get<{ calls: ToolCall[]; nextCursor: string | null; total?: number }>(
        '/api/v1/dashboard/calls',
        { sessionId, agentId, toolName, outcome, cursor: pages.cursor, limit: PAGE_SIZE },
        signal,
      ),
    [resetKey, pages.cursor],
  );
  return (
    <div className="panel" aria-labelledby="timeline-title">
      <h2 id="timeline-title">{sessionId ? <>Session <span className="mono">{sessionId}</span></> : 'All tool calls'}</h2>
      <Resolved
        {...calls}
        isEmpty={(data) => data.calls.length === 0}
        empty={<Empty title="No tool calls match">Change the filters or pick another session.</Empty>}
      >
        {(data) => (
          <>
            <p className="small muted" aria-live="polite">
              Page {pages.pageNumber}
              {data.total !== undefined ? ` · ${formatNumber(data.total)} calls in total` : ''} · newest first
            </p>
            <ol className="timeline">
              {data.calls.map((call) => (
                <CallRow key={call.callId + call.timestamp} call={call} />
              ))}
            </ol>
            <Pager label="Tool call pages" hasPrevious={pages.hasPrevious} nextCursor={data.nextCursor} onPrevious={pages.previous} onNext={pages.next} />
          </>
        )}
      </Resolved>
    </div>
  );
}

export function SessionsPage({ params }: PageProps) {
  const agentId = params.get('agentId') ?? '';
  const sessionId = params.get('sessionId') ?? '';
  const toolName = params.get('toolName') ?? '';
  const outcome = params.get('outcome') ?? '';
  return (
    <section aria-labelledby="sessions-title">
      <div className="page-header">
        <h1 id="sessions-title">Sessions</h1>
      </div>
      <FilterBar
        label="Filter tool calls"
        values={{ agentId, sessionId, toolName, outcome }}
        onApply={(values) => setQuery(values)}
        fields={[
          { name: 'agentId', label: 'Agent', placeholder: 'agent id' },
          { name: 'sessionId', label: 'Session', placeholder: 'session id' },
          { name: 'toolName', label: 'Tool', placeholder: 'tool name' },
          { name: 'outcome', label: 'Outcome', options: OUTCOMES },
        ]}
      />
      <div className="split">
        <SessionList agentId={agentId} selected={sessionId} />
        <Timeline sessionId={sessionId} agentId={agentId} toolName={toolName} outcome={outcome} />
      </div>
    </section>
  );
}
