import { useState, type FormEvent } from 'react';
import { api } from '../api/client.js';
import { useResource } from '../api/hooks.js';
import { Badge } from '../components/badge.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { formatTime } from '../components/format.js';
import { Empty, Resolved } from '../components/states.js';
import type { PageProps } from '../app.js';

/** Kill-switch state as the enforcement area reports it. */
interface KillSwitchState {
  global: { halted: boolean; reason: string | null; actor: string | null; updated_at: string | null };
  agents: { agent_id: string; halted: boolean; reason: string | null; actor: string | null; updated_at: string }[];
}

type Pending =
  | { kind: 'agent'; agentId: string; reason: string }
  | { kind: 'global'; halted: boolean; reason: string }
  | { kind: 'revive'; agentId: string };

function describe(pending: Pending): string {
  if (pending.kind === 'agent') return `Kill agent “${pending.agentId}”? Its next tool call and any running execution are stopped.`;
  if (pending.kind === 'revive') return `Allow agent “${pending.agentId}” to run again?`;
  return pending.halted ? 'Stop EVERY agent of this tenant now?' : 'Lift the global stop and let agents run again?';
}

export function KillSwitchPage(_props: PageProps) {
  const state = useResource((signal) => api.get<KillSwitchState>('/api/sdk/kill-switch', undefined, signal), []);
  const [agentId, setAgentId] = useState('');
  const [agentReason, setAgentReason] = useState('');
  const [globalReason, setGlobalReason] = useState('');
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ tone: 'ok' | 'bad'; text: string } | undefined>();

  const confirm = async () => {
    if (!pending) return;
    setBusy(true);
    setMessage(undefined);
    try {
      if (pending.kind === 'agent') {
        await api.post(`/api/sdk/agents/${encodeURIComponent(pending.agentId)}/kill`, { reason: pending.reason });
        setMessage({ tone: 'ok', text: `Agent ${pending.agentId} killed.` });
        setAgentId('');
        setAgentReason('');
      } else if (pending.kind === 'revive') {
        await api.post(`/api/sdk/agents/${encodeURIComponent(pending.agentId)}/unkill`, {});
        setMessage({ tone: 'ok', text: `Agent ${pending.agentId} may run again.` });
      } else {
        await api.post('/api/sdk/kill-switch/global', { halted: pending.halted, reason: pending.reason });
        setMessage({ tone: 'ok', text: pending.halted ? 'All agents halted.' : 'Global stop lifted.' });
        setGlobalReason('');
      }
      state.reload();
    } catch (error) {
      setMessage({ tone: 'bad', text: (error as Error).message });
    } finally {
      setBusy(false);
      setPending(null);
    }
  };

  const submitAgent = (event: FormEvent) => {
    event.preventDefault();
    setPending({ kind: 'agent', agentId: agentId.trim(), reason: agentReason.trim() });
  };
  const halted = state.data?.global.halted ?? false;
  const submitGlobal = (event: FormEvent) => {
    event.preventDefault();
    setPending({ kind: 'global', halted: !halted, reason: globalReason.trim() });
  };

  return (
    <section aria-labelledby="kill-title">
      <div className="page-header">
        <h1 id="kill-title">Kill switch</h1>
      </div>
      {message ? <p className={`notice notice-${message.tone}`} role="status">{message.text}</p> : null}
      <div className="split">
        <form className="panel" onSubmit={submitGlobal} aria-labelledby="global-title">
          <h2 id="global-title">Global</h2>
          <Resolved {...state}>
            {(data) => (
              <p>
                Status: <Badge value={data.global.halted ? 'halted' : 'running'} />{' '}
                {data.global.halted ? `since ${formatTime(data.global.updated_at)} — ${data.global.reason ?? ''}` : 'All systems normal'}
              </p>
            )}
          </Resolved>
          <label className="field">
            <span>Reason (recorded in the ledger)</span>
            <input required value={globalReason} onChange={(event) => setGlobalReason(event.target.value)} />
          </label>
          <button type="submit" className={`button ${halted ? 'button-primary' : 'button-danger'}`} disabled={!state.data}>
            {halted ? 'Resume all agents' : 'Stop all agents'}
          </button>
        </form>
        <form className="panel" onSubmit={submitAgent} aria-labelledby="agent-kill-title">
          <h2 id="agent-kill-title">One agent</h2>
          <label className="field">
            <span>Agent id</span>
            <input required name="agentId" value={agentId} onChange={(event) => setAgentId(event.target.value)} />
          </label>
          <label className="field">
            <span>Reason (recorded in the ledger)</span>
            <input required name="reason" value={agentReason} onChange={(event) => setAgentReason(event.target.value)} />
          </label>
          <button type="submit" className="button button-danger">
            Kill agent
          </button>
        </form>
      </div>
      <div className="panel">
        <h2>Killed agents</h2>
        <Resolved
          {...state}
          isEmpty={(data) => data.agents.every((agent) => !agent.halted)}
          empty={<Empty title="No agent is killed" />}
        >
          {(data) => (
            <div className="table-wrap">
              <table>
                <thead><tr><th scope="col">Agent</th><th scope="col">Reason</th><th scope="col">Since</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
                <tbody>
                  {data.agents.filter((agent) => agent.halted).map((agent) => (
                    <tr key={agent.agent_id}>
                      <td className="mono">{agent.agent_id}</td>
                      <td>{agent.reason}</td>
                      <td>{formatTime(agent.updated_at)}</td>
                      <td>
                        <button type="button" className="button small" onClick={() => setPending({ kind: 'revive', agentId: agent.agent_id })}>
                          Revive
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Resolved>
      </div>
      <ConfirmDialog
        open={pending !== null}
        title="Please confirm"
        confirmLabel={pending?.kind === 'revive' || (pending?.kind === 'global' && !pending.halted) ? 'Confirm' : 'Kill'}
        danger={pending?.kind === 'agent' || (pending?.kind === 'global' && pending.halted)}
        busy={busy}
        onCancel={() => setPending(null)}
        onConfirm={confirm}
      >
        <p>{pending ? describe(pending) : null}</p>
        {pending && pending.kind !== 'revive' ? <p className="small">Reason: {pending.reason}</p> : null}
      </ConfirmDialog>
    </section>
  );
}
