import type { ResolvedConfig, TollgateConfig } from './config.js';
import { resolveConfig } from './config.js';
import { EventBatcher } from './event-batcher.js';
import type { EventStats } from './event-batcher.js';
import { Governor } from './governor.js';
import { HttpClient } from './http-client.js';
import { createLevelLogger } from './logger.js';

interface Transport {
  client: HttpClient;
  batcher: EventBatcher;
}

/**
 * Holds one HTTP client and one event queue per (apiUrl, apiKey), shared by every governor that
 * targets the same server. The seed's API is module-level (`instrument()` returns the agent, not a
 * handle), so module-level `flush()`/`shutdown()` need somewhere to find the queues; that is this
 * registry. It is created on first use, never at import time, and tests can build their own.
 */
export class TollgateRuntime {
  readonly #transports = new Map<string, Transport>();

  /** Builds a governor for `config`, reusing the queue of an earlier one that targets the same server. */
  governor(config: TollgateConfig): Governor {
    const resolved = resolveConfig(config);
    const logger = createLevelLogger(resolved.logger, resolved.logLevel);
    const transport = this.#transport(resolved, logger);
    return new Governor({ config: resolved, client: transport.client, batcher: transport.batcher, logger });
  }

  /** Sends every queued event; resolves to true when all queues are empty. */
  async flush(timeoutMs?: number): Promise<boolean> {
    const results = await Promise.all([...this.#transports.values()].map((transport) => transport.batcher.flush(timeoutMs)));
    return results.every(Boolean);
  }

  /** Flushes and stops every queue (later events are ignored). */
  async shutdown(timeoutMs?: number): Promise<boolean> {
    const results = await Promise.all([...this.#transports.values()].map((transport) => transport.batcher.shutdown(timeoutMs)));
    this.#transports.clear();
    return results.every(Boolean);
  }

  /** Summed event counters of every queue. */
  stats(): EventStats & { pending: number } {
    const total = { queued: 0, sent: 0, duplicates: 0, dropped: 0, rejected: 0, failedAttempts: 0, pending: 0 };
    for (const { batcher } of this.#transports.values()) {
      const stats = batcher.stats();
      for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += stats[key];
    }
    return total;
  }

  #transport(config: ResolvedConfig, logger: ReturnType<typeof createLevelLogger>): Transport {
    const key = `${config.apiUrl}\u0000${config.apiKey ?? ''}`;
    let transport = this.#transports.get(key);
    if (!transport) {
      const client = new HttpClient({ apiUrl: config.apiUrl, apiKey: config.apiKey });
      transport = { client, batcher: new EventBatcher(client, config.events, logger) };
      this.#transports.set(key, transport);
    }
    return transport;
  }
}

/**
 * The module-level runtime lives on `globalThis` under a registered symbol, so every copy of the SDK
 * in a process (ESM and CommonJS builds, bundles) shares one set of queues and one `flush()`.
 */
const DEFAULT_RUNTIME = Symbol.for('tollgate.sdk.defaultRuntime');
type RuntimeHolder = { [DEFAULT_RUNTIME]?: TollgateRuntime | undefined };
const holder = globalThis as RuntimeHolder;

/** The runtime used by the module-level API, created on first use. */
export function getDefaultRuntime(): TollgateRuntime {
  holder[DEFAULT_RUNTIME] ??= new TollgateRuntime();
  return holder[DEFAULT_RUNTIME];
}

/**
 * Sends every event queued by the module-level API. Call before a short-lived process exits
 * (the SDK also flushes on `beforeExit`).
 * @example
 * await flush();
 */
export function flush(timeoutMs?: number): Promise<boolean> {
  const runtime = holder[DEFAULT_RUNTIME];
  return runtime ? runtime.flush(timeoutMs) : Promise.resolve(true);
}

/**
 * Flushes and stops the module-level event queues.
 * @example
 * process.on('SIGTERM', async () => { await shutdown(); process.exit(0); });
 */
export async function shutdown(timeoutMs?: number): Promise<boolean> {
  const runtime = holder[DEFAULT_RUNTIME];
  if (!runtime) return true;
  holder[DEFAULT_RUNTIME] = undefined;
  return runtime.shutdown(timeoutMs);
}

/**
 * Counters of the module-level event queues: queued, sent, duplicates, dropped (queue full),
 * rejected (refused by the server), failedAttempts, pending.
 * @example
 * console.log(eventStats().dropped);
 */
export function eventStats(): EventStats & { pending: number } {
  const runtime = holder[DEFAULT_RUNTIME];
  return runtime ? runtime.stats() : { queued: 0, sent: 0, duplicates: 0, dropped: 0, rejected: 0, failedAttempts: 0, pending: 0 };
}
