import { useCallback, useState } from 'react';
import { api } from '../api/client.js';
import { useEventStream, useResource } from '../api/hooks.js';
import type { ApprovalItem } from '../api/types.js';
import { Badge } from '../components/badge.js';
import { formatTime, revealHidden, toJson } from '../components/format.js';
import { Empty, Resolved } from '../components/states.js';
import { setQuery } from '../router.js';
import type { PageProps } from '../app.js';

const STATUSES = ['pending', 'approved', 'denied', 'expired'] as const;
const STREAM_EVENTS = ['approval', 'created', 'decided', 'hold', 'permission_request', 'message'];

function ApprovalCard({ item, approver, onDecided }: { item: ApprovalItem; approver: string; onDecided: () => void }) {
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState<'approve' | 'deny' | null>(null);
  const [error, setError] = useState<string | undefined>();
  const titleId = `approval-${item.id}`;

  const decide = async (action: 'approve' | 'deny') => {
    setBusy(action);
    setError(undefined);
    try {
      await api.post(`/api/v1/approvals/${encodeURIComponent(item.id)}/${action}`, { approver, comment: comment || undefined });
      onDecided();
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(null);
    }
  };

  // What the approver reads must be what will run: invisible and direction-changing characters are shown as
  // markers, long lines wrap, and hidden secrets are called out (the stored arguments have secrets masked, the tool
  // receives them as sent).
  const shown = (value: string | null | undefined) => revealHidden(value ?? '').text;
  const details = revealHidden(toJson(item.kind === 'hold' ? item.arguments ?? null : item.permissions ?? null));
  const hiddenElsewhere = [item.toolName, item.agentId, item.reason, item.justification].some((value) => revealHidden(value ?? '').hidden > 0);
  const redacted = item.kind === 'hold' && details.text.includes('[REDACTED:');
  return (
    <article className="card approval" aria-labelledby={titleId}>
      <header className="approval-head">
        <h2 id={titleId}>
          {item.kind === 'hold' ? (
            <>Tool call <span className="mono">{item.toolName ? shown(item.toolName) : '?'}</span></>
          ) : (
            'Permission request'
          )}
        </h2>
        <Badge value={item.status} />
      </header>
      <dl className="facts">
        <div><dt>Agent</dt><dd className="mono">{shown(item.agentId)}</dd></div>
        {item.sessionId ? <div><dt>Session</dt><dd className="mono">{item.sessionId}</dd></div> : null}
        {item.userId ? <div><dt>On behalf of</dt><dd>{item.userId}</dd></div> : null}
        <div><dt>Requested</dt><dd>{formatTime(item.createdAt)}</dd></div>
        {item.expiresAt ? <div><dt>Expires</dt><dd>{formatTime(item.expiresAt)}</dd></div> : null}
        {item.actionHash ? <div><dt>Action hash</dt><dd className="mono break">{item.actionHash}</dd></div> : null}
        <div><dt>Id</dt><dd className="mono">{item.id}</dd></div>
      </dl>
      {item.reason ? <p><strong>Why it was held:</strong> {shown(item.reason)}</p> : null}
      {item.justification ? <p><strong>Justification:</strong> {shown(item.justification)}</p> : null}
      {redacted ? (
        <p className="form-error" role="alert" data-warning="redacted">
          Parts of these arguments look like secrets and are hidden here (<span className="mono">[REDACTED:…]</span>). The tool will run
          with the hidden text, which may hold more than a secret: deny unless you know what it is.
        </p>
      ) : null}
      {details.hidden > 0 || hiddenElsewhere ? (
        <p className="form-error" role="alert" data-warning="hidden-characters">
          This request contains invisible or direction-changing characters, shown as <span className="mono">⟨U+…⟩</span>: the text does
          not read the way it will run.
        </p>
      ) : null}
      <h3 className="small-heading">{item.kind === 'hold' ? 'Arguments the tool will receive' : 'Permissions sought'}</h3>
      <pre className="code-block code-block-wrap">{details.text}</pre>
      {item.status === 'pending' ? (
        <div className="approval-actions">
          <label className="field grow">
            <span>Comment (recorded in the ledger)</span>
            <textarea rows={2} value={comment} onChange={(event) => setComment(event.target.value)} />
          </label>
          {error ? <p className="form-error" role="alert">{error}</p> : null}
          <div className="button-row">
            <button type="button" className="button button-primary" disabled={busy !== null} onClick={() => decide('approve')}>
              {busy === 'approve' ? 'Approving…' : 'Approve'}
            </button>
            <button type="button" className="button button-danger" disabled={busy !== null} onClick={() => decide('deny')}>
              {busy === 'deny' ? 'Denying…' : 'Deny'}
            </button>
          </div>
        </div>
      ) : (
        <p className="small muted">
          {item.status} {item.approver ? `by ${item.approver}` : ''} {item.decidedAt ? `at ${formatTime(item.decidedAt)}` : ''}
          {item.comment ? ` — “${item.comment}”` : ''}
        </p>
      )}
    </article>
  );
}

export function ApprovalsPage({ params, session }: PageProps) {
  const status = params.get('status') ?? 'pending';
  const approvals = useResource(
    (signal) => api.get<{ items: ApprovalItem[] }>('/api/v1/approvals', { status }, signal),
    [status],
  );
  const { reload } = approvals;
  const onStream = useCallback(() => reload(), [reload]);
  const streamStatus = useEventStream('/api/v1/approvals/stream', STREAM_EVENTS, onStream);
  const approver = session.keyName ? `${session.keyName} (${session.keyId})` : session.keyId;

  return (
    <section aria-labelledby="approvals-title">
      <div className="page-header">
        <h1 id="approvals-title">Approvals</h1>
        <span className={`live live-${streamStatus}`} role="status">
          {streamStatus === 'open' ? 'Live' : streamStatus === 'connecting' ? 'Connecting…' : 'Offline'}
        </span>
      </div>
      <div className="tabs" role="group" aria-label="Status">
        {STATUSES.map((value) => (
          <button
            key={value}
            type="button"
            className="button"
            aria-pressed={status === value}
            onClick={() => setQuery({ status: value === 'pending' ? undefined : value })}
          >
            {value}
          </button>
        ))}
      </div>
      <Resolved
        {...approvals}
        isEmpty={(data) => data.items.length === 0}
        empty={
          <Empty title={status === 'pending' ? 'Nothing waiting for approval' : `No ${status} items`}>
            Step-up holds from agents and sandbox permission requests appear here as they happen.
          </Empty>
        }
      >
        {(data) => (
          <div className="card-list">
            {data.items.map((item) => (
              <ApprovalCard key={item.id} item={item} approver={approver} onDecided={reload} />
            ))}
          </div>
        )}
      </Resolved>
    </section>
  );
}
