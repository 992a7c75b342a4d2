import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/client.js';
import { signIn, type SessionInfo } from '../api/session.js';

const MESSAGES: Record<string, string> = {
  UNAUTHENTICATED: 'That API key is not valid (or has been revoked or has expired).',
  DASHBOARD_SCOPE_REQUIRED:
    'That key is a machine key (enforce / events:write only). The dashboard needs a key with admin, approvals, audit:read, policies or agents.',
};

export function SignInPage({ onSignedIn }: { onSignedIn: (session: SessionInfo) => void }) {
  const [apiKey, setApiKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await signIn(apiKey.trim()));
    } catch (failure) {
      const code = failure instanceof ApiError ? failure.code : '';
      setError(MESSAGES[code] ?? (failure as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <form className="card sign-in-card" onSubmit={submit} aria-describedby={error ? 'sign-in-error' : undefined}>
        <h1>Tollgate</h1>
        <p className="muted">
          Sign in with an API key. You see what its scopes allow: <code>approvals</code>, <code>audit:read</code>,{' '}
          <code>policies</code>, <code>agents</code>, or all of it with <code>admin</code>.
        </p>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="apiKey"
          type="password"
          autoComplete="off"
          required
          autoFocus
          value={apiKey}
          onChange={(event) => setApiKey(event.target.value)}
        />
        {error ? (
          <p id="sign-in-error" className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="button button-primary" disabled={busy || apiKey.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="muted small">
          Create one with <code>tollgate keys create --scopes approvals</code> (for an approver) or{' '}
          <code>--scopes admin</code>. The key is exchanged for an httpOnly session
          cookie and is not stored in the browser.
        </p>
      </form>
    </main>
  );
}
