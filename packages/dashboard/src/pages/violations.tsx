import { useState } from 'react';
import { api } from '../api/client.js';
import { useResource } from '../api/hooks.js';
import { Badge } from '../components/badge.js';
import { FilterBar } from '../components/filter-bar.js';
import { formatTime, shortHash, toJson } from '../components/format.js';
import { Pager } from '../components/pager.js';
import { Empty, ErrorState, Loading, Resolved } from '../components/states.js';
import { useCursorPages } from '../components/use-cursor-pages.js';
import { Link, setQuery } from '../router.js';
import type { PageProps } from '../app.js';

export interface Violation {
  id: string;
  decisionId: string | null;
  decision: string | null;
  agentId: string;
  sessionId: string | null;
  userId: string | null;
  toolName: string | null;
  arguments: unknown;
  reason: string | null;
  matchedRules: string[];
  policyVersion: number | null;
  severity: string | null;
  mode: string | null;
  context: unknown;
  createdAt: string;
}

interface Proof {
  index: number;
  size: number;
  leafHash: string;
  rootHash: string;
  proof: string[];
  verified: boolean;
}

/** Finds the violation's ledger record, then fetches its inclusion proof against the signed checkpoint. */
function ProofView({ violationId }: { violationId: string }) {
  const proof = useResource(async (signal) => {
    const { index } = await api.get<{ index: number }>(`/api/v1/dashboard/violations/${encodeURIComponent(violationId)}/ledger`, undefined, signal);
    return api.get<Proof>(`/api/v1/audit/records/${index}/verify`, undefined, signal);
  }, [violationId]);
  if (proof.error) return <ErrorState error={proof.error} onRetry={proof.reload} />;
  if (!proof.data) return <Loading label="Fetching inclusion proof…" />;
  return (
    <div role="status">
      <p className={`notice notice-${proof.data.verified ? 'ok' : 'bad'}`}>
        Ledger record <Link href={`/audit?violationsOnly=true`}>#{proof.data.index}</Link>{' '}
        {proof.data.verified ? `is included in the signed log of ${proof.data.size} records.` : 'FAILED verification.'}
      </p>
      <pre className="code-block">{toJson({ leafHash: proof.data.leafHash, rootHash: proof.data.rootHash, proof: proof.data.proof })}</pre>
    </div>
  );
}

function ViolationRow({ violation }: { violation: Violation }) {
  const [showProof, setShowProof] = useState(false);
  return (
    <article className="card" aria-label={`Violation ${violation.id}`}>
      <header className="approval-head">
        <h2>
          <span className="mono">{violation.toolName ?? 'violation'}</span>
        </h2>
        <Badge value={violation.decision ?? 'BLOCK'} />
      </header>
      <p>{violation.reason}</p>
      <dl className="facts">
        <div><dt>Agent</dt><dd className="mono">{violation.agentId}</dd></div>
        {violation.sessionId ? <div><dt>Session</dt><dd className="mono">{violation.sessionId}</dd></div> : null}
        {violation.userId ? <div><dt>User</dt><dd>{violation.userId}</dd></div> : null}
        <div><dt>When</dt><dd>{formatTime(violation.createdAt)}</dd></div>
        {violation.matchedRules.length ? <div><dt>Rules</dt><dd className="mono">{violation.matchedRules.join(', ')}</dd></div> : null}
        {violation.policyVersion !== null ? <div><dt>Policy version</dt><dd>{violation.policyVersion}</dd></div> : null}
        <div><dt>Id</dt><dd className="mono">{shortHash(violation.id, 24)}</dd></div>
      </dl>
      <h3 className="small-heading">Arguments</h3>
      <pre className="code-block">{toJson(violation.arguments ?? null)}</pre>
      <details>
        <summary>Full decision context</summary>
        <pre className="code-block">{toJson({ mode: violation.mode, severity: violation.severity, decisionId: violation.decisionId, context: violation.context })}</pre>
      </details>
      <div className="button-row">
        <button type="button" className="button" aria-expanded={showProof} onClick={() => setShowProof((value) => !value)}>
          {showProof ? 'Hide ledger proof' : 'Ledger proof'}
        </button>
        {violation.sessionId ? <Link href={`/sessions?sessionId=${encodeURIComponent(violation.sessionId)}`}>Session timeline</Link> : null}
      </div>
      {showProof ? <ProofView violationId={violation.id} /> : null}
    </article>
  );
}

export function ViolationsPage({ params }: PageProps) {
  const filters = {
    agentId: params.get('agentId') ?? '',
    toolName: params.get('toolName') ?? '',
    sessionId: params.get('sessionId') ?? '',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
  };
  const key = JSON.stringify(filters);
  const pages = useCursorPages(key);
  const violations = useResource(
    (signal) =>
      api.get<{ violations: Violation[]; nextCursor: string | null }>(
        '/api/v1/dashboard/violations',
        { ...filters, cursor: pages.cursor, limit: 25 },
        signal,
      ),
    [key, pages.cursor],
  );
  return (
    <section aria-labelledby="violations-title">
      <div className="page-header">
        <h1 id="violations-title">Violations</h1>
      </div>
      <FilterBar
        label="Filter violations"
        values={filters}
        onApply={setQuery}
        fields={[
          { name: 'agentId', label: 'Agent' },
          { name: 'toolName', label: 'Tool' },
          { name: 'sessionId', label: 'Session' },
          { name: 'from', label: 'From', type: 'date' },
          { name: 'to', label: 'To', type: 'date' },
        ]}
      />
      <Resolved
        {...violations}
        isEmpty={(data) => data.violations.length === 0}
        empty={<Empty title="No violations">Blocked and escalated actions appear here with their full context.</Empty>}
      >
        {(data) => (
          <>
            <div className="card-list">
              {data.violations.map((violation) => (
                <ViolationRow key={violation.id} violation={violation} />
              ))}
            </div>
            <Pager label="Violation pages" hasPrevious={pages.hasPrevious} nextCursor={data.nextCursor} onPrevious={pages.previous} onNext={pages.next} />
          </>
        )}
      </Resolved>
    </section>
  );
}
