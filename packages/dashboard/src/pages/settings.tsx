import { useState, type FormEvent } from 'react';
import { api } from '../api/client.js';
import { useResource } from '../api/hooks.js';
import { Badge } from '../components/badge.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { formatTime } from '../components/format.js';
import { Empty, Resolved } from '../components/states.js';
import type { PageProps } from '../app.js';

export const SCOPES = ['admin', 'enforce', 'events:write', 'agents', 'audit:read', 'approvals', 'policies'] as const;

interface ApiKeyView {
  id: string;
  name: string;
  scopes: string[];
  /** Set when the key may act only for these agents (enforce ids, sandbox agent names). */
  agentIds?: string[] | null;
  createdAt: string | number;
  expiresAt: string | number | null;
  revokedAt: string | number | null;
  status: 'active' | 'expired' | 'revoked';
  prefix: string;
}

interface TenantView {
  id: string;
  name: string;
  createdAt: string | number;
}

function CreateTenant({ onCreated }: { onCreated: () => void }) {
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [message, setMessage] = useState<{ tone: 'ok' | 'bad'; text: string } | undefined>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await api.post('/api/v1/tenants', { id, name: name || undefined });
      setMessage({ tone: 'ok', text: `Tenant ${id} created.` });
      setId('');
      setName('');
      onCreated();
    } catch (failure) {
      setMessage({ tone: 'bad', text: (failure as Error).message });
    }
  };
  return (
    <form onSubmit={submit} aria-labelledby="create-tenant-title">
      <h3 id="create-tenant-title">Create a tenant</h3>
      <p className="small muted">Only admin keys of the operator tenant can create tenants.</p>
      <div className="filters">
        <label className="field">
          <span>Tenant id</span>
          <input required pattern="[a-z0-9._\-]+" value={id} onChange={(event) => setId(event.target.value)} />
        </label>
        <label className="field">
          <span>Name</span>
          <input value={name} onChange={(event) => setName(event.target.value)} />
        </label>
        <div className="filter-actions">
          <button type="submit" className="button button-primary">Create tenant</button>
        </div>
      </div>
      {message ? <p className={`notice notice-${message.tone}`} role="status">{message.text}</p> : null}
    </form>
  );
}

function CreateKey({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['enforce', 'events:write']);
  const [agents, setAgents] = useState('');
  const [secret, setSecret] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      const agentIds = agents.split(',').map((id) => id.trim()).filter((id) => id !== '');
      const created = await api.post<{ secret: string }>('/api/v1/keys', { name, scopes, ...(agentIds.length > 0 ? { agentIds } : {}) });
      setSecret(created.secret);
      setName('');
      setAgents('');
      onCreated();
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="create-key-title">
      <h2 id="create-key-title">Create an API key</h2>
      <label className="field">
        <span>Name</span>
        <input required value={name} onChange={(event) => setName(event.target.value)} />
      </label>
      <fieldset className="scopes">
        <legend>Scopes</legend>
        {SCOPES.map((scope) => (
          <label key={scope} className="checkbox">
            <input
              type="checkbox"
              checked={scopes.includes(scope)}
              onChange={(event) => setScopes(event.target.checked ? [...scopes, scope] : scopes.filter((value) => value !== scope))}
            />
            {scope}
          </label>
        ))}
      </fieldset>
      <label className="field">
        <span>Only for agents (optional)</span>
        <input
          value={agents}
          onChange={(event) => setAgents(event.target.value)}
          placeholder="support-bot, my-summarizer"
          aria-describedby="key-agents-help"
        />
      </label>
      <p id="key-agents-help" className="small muted">
        Comma-separated agent ids (sandbox agents: names). The key may then act only for them, and only with the scopes
        enforce, events:write and agents; it cannot change what its agents may do.
      </p>
      {error ? <p className="form-error" role="alert">{error}</p> : null}
      <button type="submit" className="button button-primary" disabled={scopes.length === 0}>
        Create key
      </button>
      {secret ? (
        <div className="notice notice-ok" role="status">
          <p>Copy this key now; it is not shown again.</p>
          <code className="secret">{secret}</code>
        </div>
      ) : null}
    </form>
  );
}

export function SettingsPage({ session }: PageProps) {
  const keys = useResource((signal) => api.get<{ keys: ApiKeyView[] }>('/api/v1/keys', undefined, signal), []);
  const tenants = useResource((signal) => api.get<{ tenants: TenantView[] }>('/api/v1/tenants', undefined, signal), []);
  const [revoking, setRevoking] = useState<ApiKeyView | null>(null);
  const [error, setError] = useState<string | undefined>();

  const revoke = async () => {
    if (!revoking) return;
    try {
      await api.post(`/api/v1/keys/${encodeURIComponent(revoking.id)}/revoke`, {});
      keys.reload();
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setRevoking(null);
    }
  };

  return (
    <section aria-labelledby="settings-title">
      <div className="page-header">
        <h1 id="settings-title">Settings</h1>
      </div>
      <div className="panel">
        <h2>API keys</h2>
        {error ? <p className="form-error" role="alert">{error}</p> : null}
        <Resolved {...keys} isEmpty={(data) => data.keys.length === 0} empty={<Empty title="No keys" />}>
          {(data) => (
            <div className="table-wrap">
              <table>
                <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Status</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
                <tbody>
                  {data.keys.map((key) => (
                    <tr key={key.id}>
                      <td>{key.name}</td>
                      <td className="mono small">{key.prefix}</td>
                      <td className="small">
                        {key.scopes.join(', ')}
                        {key.agentIds ? <span className="muted"> · only for {key.agentIds.join(', ')}</span> : null}
                      </td>
                      <td className="small">{formatTime(key.createdAt)}</td>
                      <td><Badge value={key.status} /></td>
                      <td>
                        {key.status !== 'revoked' && key.id !== session.keyId ? (
                          <button type="button" className="button small button-danger" onClick={() => setRevoking(key)}>
                            Revoke
                          </button>
                        ) : key.id === session.keyId ? <span className="small muted">this session</span> : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Resolved>
      </div>
      <div className="split">
        <CreateKey onCreated={keys.reload} />
        <div className="panel">
          <h2>Tenants</h2>
          <Resolved {...tenants} isEmpty={(data) => data.tenants.length === 0} empty={<Empty title="No tenants visible" />}>
            {(data) => (
              <ul>
                {data.tenants.map((tenant) => (
                  <li key={tenant.id}>
                    <strong>{tenant.name}</strong> <span className="mono small">{tenant.id}</span>{' '}
                    {tenant.id === session.tenantId ? <Badge value="active" /> : null}
                  </li>
                ))}
              </ul>
            )}
          </Resolved>
          <CreateTenant onCreated={tenants.reload} />
        </div>
      </div>
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke API key"
        confirmLabel="Revoke"
        danger
        onCancel={() => setRevoking(null)}
        onConfirm={revoke}
      >
        <p>Revoke “{revoking?.name}” ({revoking?.id})? Agents using it stop being able to call Tollgate.</p>
      </ConfirmDialog>
    </section>
  );
}
