/**
 * Cross-request signals (hold decided, kill switch, new ledger record, policy activated, API key revoked).
 * Payloads must be JSON-serialisable: the PostgreSQL implementation carries them between replicas.
 */
export interface Bus {
  /** Delivers `payload` to every subscriber of `channel` (on every replica, for PostgreSQL). */
  publish(channel: string, payload: unknown): Promise<void>;
  /** Returns the unsubscribe function. Listener errors are caught and reported, never thrown into publishers. */
  subscribe(channel: string, listener: BusListener): () => void;
  /** Stops delivery and releases connections; idempotent. */
  close(): Promise<void>;
}

export type BusListener = (payload: unknown) => void;

/** Reports listener failures (wired to the logger). */
export type BusErrorReporter = (error: unknown, channel: string) => void;

/** Local fan-out shared by both implementations. */
export class LocalFanout {
  readonly #listeners = new Map<string, Set<BusListener>>();

  constructor(private readonly reportError: BusErrorReporter) {}

  subscribe(channel: string, listener: BusListener): () => void {
    let set = this.#listeners.get(channel);
    if (!set) {
      set = new Set();
      this.#listeners.set(channel, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(channel);
    };
  }

  deliver(channel: string, payload: unknown): void {
    const set = this.#listeners.get(channel);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(payload);
      } catch (error) {
        this.reportError(error, channel);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}

/**
 * In-process bus (single replica, SQLite). Payloads are copied through JSON so behaviour matches PostgreSQL.
 *
 * @example
 * const bus = createInProcessBus();
 * const off = bus.subscribe('kill-switch', (p) => console.log(p));
 * await bus.publish('kill-switch', { tenantId: 'default' });
 */
export function createInProcessBus(reportError: BusErrorReporter = () => undefined): Bus {
  const fanout = new LocalFanout(reportError);
  let closed = false;
  return {
    async publish(channel, payload) {
      if (closed) return;
      fanout.deliver(channel, JSON.parse(JSON.stringify(payload ?? null)) as unknown);
    },
    subscribe: (channel, listener) => fanout.subscribe(channel, listener),
    async close() {
      closed = true;
      fanout.clear();
    },
  };
}

/**
 * A long poll over the bus: subscribes to `channel` before the first `read` (so a change landing between the read and
 * the wait is not missed), then, if `waitFor(first)` is above 0, waits until a message `matches`, that many
 * milliseconds pass or `signal` aborts (the caller went away), and reads again.
 *
 * @example
 * const hold = await waitOnBus(bus, HOLD_CHANNEL, {
 *   read: () => holds.get(tenantId, id), matches: (m) => (m as HoldMessage).holdId === id,
 *   waitFor: (first) => (first.status === 'pending' ? 25_000 : 0), signal: request.signal,
 * });
 */
export async function waitOnBus<T>(bus: Bus, channel: string, options: {
  read: () => Promise<T>;
  matches: (payload: unknown) => boolean;
  waitFor: (first: T) => number;
  signal?: AbortSignal | undefined;
}): Promise<T> {
  const { signal } = options;
  let wake: () => void = () => undefined;
  const woken = new Promise<void>((resolve) => { wake = resolve; });
  const off = bus.subscribe(channel, (payload) => {
    if (options.matches(payload)) wake();
  });
  let timer: NodeJS.Timeout | undefined;
  signal?.addEventListener('abort', wake, { once: true });
  try {
    const first = await options.read();
    const wait = options.waitFor(first);
    if (wait <= 0 || signal?.aborted) return first;
    await Promise.race([woken, new Promise<void>((resolve) => { timer = setTimeout(resolve, wait); })]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', wake);
    off();
  }
  return options.read();
}
