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
