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
}

interface ExecutionSummary {
  execution_id?: number | string;
  id?: number | string;
  status: string;
  duration_ms?: number | null;
  started_at?: string;
  created_at?: string;
}

interface HostCall {
  function?: string;
  fn?: string;
  name?: string;
  args_summary?: unknown;
  allowed?: boolean;
  decision?: string;
  duration_ms?: number;
  timestamp?: string;
}

interface ExecutionDetail extends ExecutionSummary {
  output?: unknown;
  error?: unknown;
  logs?: unknown[];
  audit?: HostCall[];
  host_calls?: HostCall[];
  resource_usage?: Record<string, unknown>;
  resources?: Record<string, unknown>;
}

const executionId = (execution: ExecutionSummary) => String(execution.execution_id ?? execution.id ?? '');

function ExecutionView({ agentId, id }: { agentId: string; id: string }) {
  const detail = useResource(
    (signal) => api.get<{ execution?: ExecutionDetail } & ExecutionDetail>(`/api/v1/sdk/agents/${encodeURIComponent(agentId)}/executions/${encodeURIComponent(id)}`, undefined, signal),
    [agentId, id],
  );
  return (
    <div className="panel">
      <h2>Execution <span className="mono">{id}</span></h2>
      <Resolved {...detail}>
        {(raw) => {
          const execution: ExecutionDetail = raw.execution ?? raw;
          const hostCalls = execution.audit ?? execution.host_calls ?? [];
          const resources = execution.resource_usage ?? execution.resources;
          return (
            <>
              <dl className="facts">
                <div><dt>Status</dt><dd><Badge value={execution.status} /></dd></div>
                <div><dt>Duration</dt><dd>{formatDuration(execution.duration_ms)}</dd></div>
                <div><dt>Started</dt><dd>{formatTime(execution.started_at ?? execution.created_at)}</dd></div>
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
                          <td className="mono">{call.function ?? call.fn ?? call.name}</td>
                          <td className="mono small">{typeof call.args_summary === 'string' ? call.args_summary : toJson(call.args_summary)}</td>
                          <td><Badge value={call.decision ?? (call.allowed === false ? 'denied' : 'allow')} /></td>
                          <td>{formatDuration(call.duration_ms)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              <h3 className="small-heading">Output</h3>
              <pre className="code-block">{toJson(execution.output ?? execution.error ?? null)}</pre>
            </>
          );
        }}
      </Resolved>
    </div>
  );
}

function Executions({ agentId }: { agentId: string }) {
  const executions = useResource(
    (signal) => api.get<{ executions: ExecutionSummary[] }>(`/api/v1/sdk/agents/${encodeURIComponent(agentId)}/executions`, { limit: 50 }, signal),
    [agentId],
  );
  return (
    <div className="panel">
      <h2>Runs</h2>
      <Resolved {...executions} isEmpty={(data) => data.executions.length === 0} empty={<Empty title="No runs yet" />}>
        {(data) => (
          <div className="table-wrap">
            <table>
              <thead><tr><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Duration</th><th scope="col">Started</th></tr></thead>
              <tbody>
                {data.executions.map((execution) => (
                  <tr key={executionId(execution)}>
                    <td><Link href={`/agents/${encodeURIComponent(agentId)}/${encodeURIComponent(executionId(execution))}`} className="mono">{executionId(execution)}</Link></td>
                    <td><Badge value={execution.status} /></td>
                    <td>{formatDuration(execution.duration_ms)}</td>
                    <td>{formatTime(execution.started_at ?? execution.created_at)}</td>
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
