import { useCallback, useEffect, useState, type FormEvent } from 'react';
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

interface VerifyResult {
  recordId: number;
  index: number;
  size: number;
  leafHash: string;
  rootHash: string;
  verified: boolean;
  chain_valid?: boolean;
  verified_at?: string;
  checkpoint?: unknown;
  proof?: string[];
}

interface Checkpoint {
  origin: string;
  size: number;
  rootHash: string;
  createdAt: string;
  publicKey?: string;
}

function VerifyPanel({ recordId, onRecordId, trigger }: { recordId: string; onRecordId: (value: string) => void; trigger: number }) {
  const checkpoint = useResource((signal) => api.get<Checkpoint>('/api/v1/audit/checkpoint', undefined, signal), []);
  const [result, setResult] = useState<VerifyResult | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      setResult(await api.get<VerifyResult>(`/api/v1/audit/records/${encodeURIComponent(recordId)}/verify`));
      checkpoint.reload();
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const verify = (event: FormEvent) => {
    event.preventDefault();
    void run();
  };
  useEffect(() => {
    if (trigger > 0) void run();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [trigger]);
  return (
    <form className="panel" onSubmit={verify} aria-labelledby="verify-title">
      <h2 id="verify-title">Verify a record</h2>
      {checkpoint.data ? (
        <p className="small muted">
          Latest signed checkpoint: {checkpoint.data.size} records, root <span className="mono">{shortHash(checkpoint.data.rootHash, 16)}</span>
        </p>
      ) : null}
      <p className="small muted">Recomputes the record's Merkle leaf and checks its inclusion proof against the signed checkpoint.</p>
      <div className="filters">
        <label className="field">
          <span>Record #</span>
          <input required inputMode="numeric" pattern="[0-9]+" value={recordId} onChange={(event) => onRecordId(event.target.value)} />
        </label>
        <div className="filter-actions">
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Verifying…' : 'Verify'}
          </button>
        </div>
      </div>
      {error ? <p className="notice notice-bad" role="alert">{error}</p> : null}
      {result ? (
        <div role="status">
          <p className={`notice notice-${result.verified ? 'ok' : 'bad'}`}>
            {result.verified
              ? `Record #${result.index} verified: included in the signed log of ${result.size} records.`
              : `Record #${result.index} FAILED verification.`}
          </p>
          <pre className="code-block">{toJson({ leafHash: result.leafHash, rootHash: result.rootHash, proof: result.proof, verified_at: result.verified_at })}</pre>
        </div>
      ) : null}
    </form>
  );
}

export function AuditPage({ params }: PageProps) {
  const filters = {
    agentId: params.get('agentId') ?? '',
    actionTypes: params.get('actionTypes') ?? '',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    violationsOnly: params.get('violationsOnly') ?? '',
  };
  const key = JSON.stringify(filters);
  const pages = useCursorPages(key);
  const records = useResource(
    (signal) =>
      api.get<{ events: AuditRecord[]; total: number; anchored: boolean; nextCursor: string | null }>('/api/v1/audit/records', { ...filters, cursor: pages.cursor, limit: 50 }, signal),
    [key, pages.cursor],
  );
  const exportQuery = { ...filters };
  const [verifyId, setRecordId] = useState('');
  const [verifyTrigger, setVerifyTrigger] = useState(0);
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
        <VerifyPanel recordId={verifyId} onRecordId={setRecordId} trigger={verifyTrigger} />
      </div>
      <h2>Search</h2>
      <FilterBar
        label="Search the audit log"
        values={filters}
        onApply={setQuery}
        fields={[
          { name: 'agentId', label: 'Agent' },
          { name: 'actionTypes', label: 'Types', placeholder: 'enforce.decision,…' },
          { name: 'from', label: 'From', type: 'date' },
          { name: 'to', label: 'To', type: 'date' },
          { name: 'violationsOnly', label: 'Violations', options: [{ value: '', label: 'All records' }, { value: 'true', label: 'Violations only' }] },
        ]}
      />
      <Resolved {...records} isEmpty={(data) => data.events.length === 0} empty={<Empty title="No audit records match" />}>
        {(data) => (
          <>
            <p className="small muted">
              {data.total} matching records, oldest first · {data.anchored ? 'all covered by a signed checkpoint' : 'newest not yet in a signed checkpoint'}
            </p>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Type</th><th scope="col">Agent</th><th scope="col">Description</th><th scope="col"><span className="visually-hidden">Verify</span></th></tr>
                </thead>
                <tbody>
                  {data.events.map((record) => (
                    <tr key={recordId(record)} className={record.is_violation ? 'violation' : undefined}>
                      <td className="mono">{recordId(record)}</td>
                      <td>{formatTime(record.recorded_at)}</td>
                      <td>{record.action_type ?? record.type} {record.is_violation ? <Badge value="violation" /> : null}</td>
                      <td className="mono">{record.agent_id ?? '—'}</td>
                      <td>{record.description}</td>
                      <td>
                        <button type="button" className="button small" onClick={() => {
                            setRecordId(recordId(record));
                            setVerifyTrigger((value) => value + 1);
                            document.getElementById('verify-title')?.scrollIntoView();
                          }}>
                          Verify
                        </button>
                      </td>
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
