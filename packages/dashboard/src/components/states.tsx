import type { ReactNode } from 'react';
import { ApiError } from '../api/client.js';
import { requiredScopeOf } from '../api/scopes.js';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

/**
 * Shown instead of a page (or a panel) whose data needs a scope the session's key does not have: a person
 * signed in with an approvals-only key sees why the page is closed to them, not an error or an empty table.
 */
export function NeedsScope({ scope }: { scope: string }) {
  return (
    <div className="state state-scope" role="status">
      <strong>
        This page needs the <code>{scope}</code> scope
      </strong>
      <p>
        The API key this session was opened with does not have it. Ask an administrator for a key with{' '}
        <code>{scope}</code> (or <code>admin</code>), then sign out and sign in with that key.
      </p>
    </div>
  );
}

export function ErrorState({ error, onRetry }: { error: Error; onRetry?: () => void }) {
  // The key lost a scope while the page was open (the server follows the key's current scopes).
  const missingScope = error instanceof ApiError && error.code === 'FORBIDDEN' ? requiredScopeOf(error.details) : undefined;
  if (missingScope) return <NeedsScope scope={missingScope} />;
  const code = error instanceof ApiError ? error.code : undefined;
  const notReady = error instanceof ApiError && (error.status === 404 || error.status === 501);
  return (
    <div className="state state-error" role="alert">
      <strong>{notReady ? 'Not available on this server' : 'Could not load'}</strong>
      <p>
        {error.message}
        {code ? <code className="error-code">{code}</code> : null}
      </p>
      {onRetry ? (
        <button type="button" className="button" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children ? <p>{children}</p> : null}
    </div>
  );
}

/** Renders loading / error / empty / content for one resource. */
export function Resolved<T>(props: {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload?: () => void;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  const { data, error, loading, reload, isEmpty, empty, children } = props;
  if (error) return <ErrorState error={error} onRetry={reload} />;
  if (data === undefined) return loading ? <Loading /> : null;
  if (isEmpty?.(data)) return <>{empty ?? <Empty title="Nothing here yet" />}</>;
  return <>{children(data)}</>;
}
