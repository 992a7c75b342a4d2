import { useCallback, useEffect, useRef, useState } from 'react';

export interface Resource<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads data for a page and reloads when `deps` change. Stale answers (from an older
 * filter) are discarded, so fast typing in a filter never shows the wrong page.
 *
 * @example
 * const keys = useResource((signal) => api.get<{ keys: Key[] }>('/api/v1/keys', undefined, signal), []);
 */
export function useResource<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    setState((previous) => ({ data: previous.data, loading: true }));
    loadRef
      .current(controller.signal)
      .then((data) => {
        if (!controller.signal.aborted) setState({ data, loading: false });
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setState({ error: error instanceof Error ? error : new Error(String(error)), loading: false });
      });
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);

  const reload = useCallback(() => setTick((value) => value + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export type StreamStatus = 'connecting' | 'open' | 'closed';

/**
 * Subscribes to a Server-Sent Events endpoint (same origin, so the session cookie is sent).
 * `onEvent` receives every named event in `events`; the browser reconnects on its own.
 *
 * @example
 * const status = useEventStream('/api/v1/approvals/stream', ['approval'], () => approvals.reload());
 */
export function useEventStream(
  url: string | null,
  events: readonly string[],
  onEvent: (type: string, data: unknown) => void,
): StreamStatus {
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const handlerRef = useRef(onEvent);
  handlerRef.current = onEvent;
  const eventKey = events.join(',');

  useEffect(() => {
    if (!url) {
      setStatus('closed');
      return;
    }
    const source = new EventSource(url, { withCredentials: true });
    setStatus('connecting');
    source.onopen = () => setStatus('open');
    source.onerror = () => setStatus(source.readyState === EventSource.CLOSED ? 'closed' : 'connecting');
    const listeners = eventKey.split(',').map((type) => {
      const listener = (event: MessageEvent<string>) => {
        let data: unknown = event.data;
        try {
          data = JSON.parse(event.data);
        } catch {
          // keep the raw text
        }
        handlerRef.current(type, data);
      };
      source.addEventListener(type, listener);
      return [type, listener] as const;
    });
    return () => {
      for (const [type, listener] of listeners) source.removeEventListener(type, listener);
      source.close();
    };
  }, [url, eventKey]);

  return status;
}
