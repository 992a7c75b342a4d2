import { api } from '../api/client.js';
import { useResource } from '../api/hooks.js';
import { Badge } from '../components/badge.js';
import { formatDuration, formatTime, toJson } from '../components/format.js';
import { Empty, Resolved } from '../components/states.js';
import { Link } from '../router.js';
import type { PageProps } from '../app.js';

/** Sandbox agents and executions (seed 004 REST API, snake_case on the wire). */
interface SandboxAgent {
  id: number | string;
  name: string;
  version?: string;
  status?: string;
  config?: Record<string, unknown>;
  created_at?: string;
  updated_at?: string;
}

interface HostCall {
  fn: string;
  args_summary?: unknown;
  allowed: boolean;
  duration_ms?: number;
  t_ms?: number;
  reason?: string;
}

/** One execution as `/api/v1/sdk/agents/:id/executions[/:eid]` returns it. */
interface Execution {
  execution_id: number;
  status: string;
  output?: unknown;
  error?: { code: string; message: string } | null;
  resource_usage?: Record<string, unknown>;
  host_call_audit?: HostCall[];
  violation_count?: number;
  was_terminated?: boolean;
  termination_reason?: string | null;
  logs?: unknown[];
  ledger_index?: number | null;
  started_at?: string;
  finished_at?: string | null;
}

const wallMs = (execution: Execution) => {
  const wall = execution.resource_usage?.wall_ms;
  return typeof wall === 'number' ? wall : null;
};

function ExecutionView({ agentId, id }: { agentId: string; id: string }) {
  const detail = useResource(
    (signal) => api.get<Execution>(`/api/v1/sdk/agents/${encodeURIComponent(agentId)}/executions/${encodeURIComponent(id)}`, undefined, signal),
    [agentId, id],
  );
  return (
    <div className="panel">
      <h2>Execution <span className="mono">{id}</span></h2>
      <Resolved {...detail}>
        {(execution) => {
          const hostCalls = execution.host_call_audit ?? [];
          const resources = execution.resource_usage;
          return (
            <>
              <dl className="facts">
                <div><dt>Status</dt><dd><Badge value={execution.status} /></dd></div>
                <div><dt>Wall time</dt><dd>{formatDuration(wallMs(execution))}</dd></div>
                <div><dt>Started</dt><dd>{formatTime(execution.started_at)}</dd></div>
                <div><dt>Violations</dt><dd>{execution.violation_count ?? 0}</dd></div>
                {execution.ledger_index !== null && execution.ledger_index !== undefined ? <div><dt>Ledger record</dt><dd>#{execution.ledger_index}</dd></div> : null}
                {execution.was_terminated ? <div><dt>Terminated</dt><dd>{execution.termination_reason ?? 'yes'}</dd></div> : null}
              </dl>
              {resources ? (
                <>
                  <h3 className="small-heading">Resource use</h3>
                  <dl className="facts">
                    {Object.entries(resources).map(([key, value]) => (
                      <div key={key}><dt>{key.replace(/_/g, ' ')}</dt><dd>{typeof value === 'object' ? toJson(value) : String(value)}</dd></div>
                    ))}
                  </dl>
                </>
              ) : null}
              <h3 className="small-heading">Host-call audit</h3>
              {hostCalls.length === 0 ? (
                <p className="muted">No host calls recorded.</p>
              ) : (
                <div className="table-wrap">
                  <table>
                    <thead><tr><th scope="col">Function</th><th scope="col">Arguments</th><th scope="col">Decision</th><th scope="col">Duration</th></tr></thead>
                    <tbody>
                      {hostCalls.map((call, index) => (
                        <tr key={index}>
                          <td className="mono">{call.fn}</td>
                          <td className="mono small">{typeof call.args_summary === 'string' ? call.args_summary : toJson(call.args_summary)}</td>
                          <td><Badge value={call.allowed ? 'allow' : 'denied'} />{call.reason ? <span className="small"> {call.reason}</span> : null}</td>
                          <td>{formatDuration(call.duration_ms)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              <h3 className="small-heading">Output</h3>
              <pre className="code-block">{toJson(execution.error ?? execution.output ?? null)}</pre>
              {execution.logs && execution.logs.length > 0 ? (
                <>
                  <h3 className="small-heading">Logs</h3>
                  <pre className="code-block">{execution.logs.map((line) => toJson(line)).join('\n')}</pre>
                </>
              ) : null}
            </>
          );
        }}
      </Resolved>
    </div>
  );
}

function Executions({ agentId }: { agentId: string }) {
  const executions = useResource(
    (signal) => api.get<{ executions: Execution[]; total: number }>(`/api/v1/sdk/agents/${encodeURIComponent(agentId)}/executions`, { limit: 50 }, signal),
    [agentId],
  );
  return (
    <div className="panel">
      <h2>Runs</h2>
      <Resolved {...executions} isEmpty={(data) => data.executions.length === 0} empty={<Empty title="No runs yet" />}>
        {(data) => (
          <div className="table-wrap">
            <table>
              <thead><tr><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Wall time</th><th scope="col">Host calls</th><th scope="col">Started</th></tr></thead>
              <tbody>
                {data.executions.map((execution) => (
                  <tr key={execution.execution_id}>
                    <td><Link href={`/agents/${encodeURIComponent(agentId)}/${execution.execution_id}`} className="mono">#{execution.execution_id}</Link></td>
                    <td><Badge value={execution.status} /></td>
                    <td>{formatDuration(wallMs(execution))}</td>
                    <td>{execution.host_call_audit?.length ?? 0}</td>
                    <td>{formatTime(execution.started_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Resolved>
    </div>
  );
}

export function AgentsPage({ subpath }: PageProps) {
  const [agentId, execution] = subpath.split('/').map(decodeURIComponent);
  const agents = useResource((signal) => api.get<{ agents: SandboxAgent[] }>('/api/v1/sdk/agents', undefined, signal), []);
  return (
    <section aria-labelledby="agents-title">
      <div className="page-header">
        <h1 id="agents-title">Agents and executions</h1>
      </div>
      <div className="split">
        <div className="panel">
          <h2>Sandboxed agents</h2>
          <Resolved
            {...agents}
            isEmpty={(data) => data.agents.length === 0}
            empty={<Empty title="No sandboxed agents">Register one with <code>SecureAgent.configure()</code> or POST /api/v1/sdk/agents.</Empty>}
          >
            {(data) => (
              <ul className="session-list">
                {data.agents.map((agent) => (
                  <li key={agent.id}>
                    <Link href={`/agents/${encodeURIComponent(String(agent.id))}`} className="session-link" aria-current={String(agent.id) === agentId ? 'true' : undefined}>
                      <span className="session-agent">{agent.name}</span>
                      <span className="small muted">
                        id {agent.id} {agent.version ? `· v${agent.version}` : ''} · <Badge value={agent.status} />
                      </span>
                    </Link>
                  </li>
                ))}
              </ul>
            )}
          </Resolved>
        </div>
        <div>
          {agentId ? <Executions agentId={agentId} /> : <Empty title="Pick an agent">Its runs, host-call audit and resource use show here.</Empty>}
          {agentId && execution ? <ExecutionView agentId={agentId} id={execution} /> : null}
        </div>
      </div>
    </section>
  );
}
