import type { ReactNode } from 'react';
import { ApiError } from '../api/client.js';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function ErrorState({ error, onRetry }: { error: Error; onRetry?: () => void }) {
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
