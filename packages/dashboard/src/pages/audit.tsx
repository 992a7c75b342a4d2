import { useCallback, useState } from 'react';
import { api, withQuery } from '../api/client.js';
import { useEventStream, useResource } from '../api/hooks.js';
import { Badge } from '../components/badge.js';
import { FilterBar } from '../components/filter-bar.js';
import { formatTime, shortHash, toJson } from '../components/format.js';
import { Pager } from '../components/pager.js';
import { Empty, Resolved } from '../components/states.js';
import { useCursorPages } from '../components/use-cursor-pages.js';
import { setQuery } from '../router.js';
import type { PageProps } from '../app.js';

/** One ledger record as the audit API returns it (snake_case, seed 004). */
interface AuditRecord {
  id?: number | string;
  seq?: number;
  recorded_at?: string;
  action_type?: string;
  type?: string;
  agent_id?: string | null;
  description?: string;
  is_violation?: boolean;
  hash?: string;
  data?: unknown;
}

const LIVE_LIMIT = 50;
const recordId = (record: AuditRecord) => String(record.seq ?? record.id ?? '');

function LiveStream() {
  const [records, setRecords] = useState<AuditRecord[]>([]);
  const [paused, setPaused] = useState(false);
  const onEvent = useCallback((type: string, data: unknown) => {
    if (type !== 'audit') return;
    setRecords((current) => [data as AuditRecord, ...current].slice(0, LIVE_LIMIT));
  }, []);
  const status = useEventStream(paused ? null : '/api/sdk/audit/stream', ['audit', 'connected', 'timeout'], onEvent);
  return (
    <div className="panel">
      <div className="page-header">
        <h2>Live stream</h2>
        <span className={`live live-${paused ? 'closed' : status}`} role="status">
          {paused ? 'Paused' : status === 'open' ? 'Live' : status === 'connecting' ? 'Connecting…' : 'Offline'}
        </span>
        <button type="button" className="button small" onClick={() => setPaused((value) => !value)}>
          {paused ? 'Resume' : 'Pause'}
        </button>
      </div>
      {records.length === 0 ? (
        <p className="muted">Waiting for new ledger records…</p>
      ) : (
        <ol className="live-list" aria-live="polite">
          {records.map((record, index) => (
            <li key={`${recordId(record)}-${index}`} className={record.is_violation ? 'violation' : undefined}>
              <span className="mono small">#{recordId(record)}</span> <strong>{record.action_type ?? record.type}</strong>{' '}
              {record.agent_id ? <span className="mono small">{record.agent_id}</span> : null} {record.description}
              {record.is_violation ? <Badge value="violation" /> : null}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

function VerifyPanel() {
  const [result, setResult] = useState<unknown>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const verify = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setResult(await api.post('/api/v1/audit/verify', {}));
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const valid = (result as { valid?: boolean } | undefined)?.valid;
  return (
    <div className="panel">
      <h2>Verify the ledger</h2>
      <p className="small muted">Recomputes the Merkle tree and checks every signed checkpoint.</p>
      <button type="button" className="button button-primary" onClick={verify} disabled={busy}>
        {busy ? 'Verifying…' : 'Verify now'}
      </button>
      {error ? <p className="notice notice-bad" role="alert">{error}</p> : null}
      {result !== undefined ? (
        <div role="status">
          <p className={`notice notice-${valid ? 'ok' : 'bad'}`}>{valid ? 'Ledger verified: intact.' : 'Verification FAILED.'}</p>
          <pre className="code-block">{toJson(result)}</pre>
        </div>
      ) : null}
    </div>
  );
}

export function AuditPage({ params }: PageProps) {
  const filters = {
    agentId: params.get('agentId') ?? '',
    actionType: params.get('actionType') ?? '',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    violationsOnly: params.get('violationsOnly') ?? '',
  };
  const key = JSON.stringify(filters);
  const pages = useCursorPages(key);
  const records = useResource(
    (signal) =>
      api.get<{ records: AuditRecord[]; nextCursor: string | null }>('/api/v1/audit/records', { ...filters, cursor: pages.cursor, limit: 50 }, signal),
    [key, pages.cursor],
  );
  const exportQuery = { agentId: filters.agentId, from: filters.from, to: filters.to };
  return (
    <section aria-labelledby="audit-title">
      <div className="page-header">
        <h1 id="audit-title">Audit</h1>
        <div className="button-row">
          <a className="button" href={withQuery('/api/v1/audit/export', { ...exportQuery, format: 'json' })} download>
            Export JSON
          </a>
          <a className="button" href={withQuery('/api/v1/audit/export', { ...exportQuery, format: 'csv' })} download>
            Export CSV
          </a>
        </div>
      </div>
      <div className="split">
        <LiveStream />
        <VerifyPanel />
      </div>
      <h2>Search</h2>
      <FilterBar
        label="Search the audit log"
        values={filters}
        onApply={setQuery}
        fields={[
          { name: 'agentId', label: 'Agent' },
          { name: 'actionType', label: 'Action type' },
          { name: 'from', label: 'From', type: 'date' },
          { name: 'to', label: 'To', type: 'date' },
          { name: 'violationsOnly', label: 'Violations', options: [{ value: '', label: 'All records' }, { value: 'true', label: 'Violations only' }] },
        ]}
      />
      <Resolved {...records} isEmpty={(data) => data.records.length === 0} empty={<Empty title="No audit records match" />}>
        {(data) => (
          <>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Type</th><th scope="col">Agent</th><th scope="col">Description</th><th scope="col">Hash</th></tr>
                </thead>
                <tbody>
                  {data.records.map((record) => (
                    <tr key={recordId(record)} className={record.is_violation ? 'violation' : undefined}>
                      <td className="mono">{recordId(record)}</td>
                      <td>{formatTime(record.recorded_at)}</td>
                      <td>{record.action_type ?? record.type} {record.is_violation ? <Badge value="violation" /> : null}</td>
                      <td className="mono">{record.agent_id ?? '—'}</td>
                      <td>{record.description}</td>
                      <td className="mono small">{shortHash(record.hash)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager label="Audit pages" hasPrevious={pages.hasPrevious} nextCursor={data.nextCursor} onPrevious={pages.previous} onNext={pages.next} />
          </>
        )}
      </Resolved>
    </section>
  );
}
