import type { TollgateConfig } from './config.js';
import type { GovernedRecord } from './function-record.js';
import { governFunctionRecord } from './function-record.js';
import { instrumentWith } from './instrument.js';
import type { TollgateRuntime } from './runtime.js';
import { getDefaultRuntime } from './runtime.js';

/** Defaults a client applies to every call; per-call options win. */
export type TollgateClientOptions = Partial<TollgateConfig> & { runtime?: TollgateRuntime };

/**
 * A client that carries shared defaults (tenant, user, API URL, mode). The module-level functions
 * are preferred for new code; this class exists for the seed's `ThothClient`.
 * @example
 * const client = new TollgateClient({ tenantId: 'acme-corp', userId: 'alice@example.com' });
 * client.instrument(agent, { agentId: 'document-summarizer', approvedScope: ['web_search'] });
 */
export class TollgateClient {
  readonly #defaults: Partial<TollgateConfig>;
  readonly #runtime: TollgateRuntime | undefined;

  constructor(options: TollgateClientOptions = {}) {
    const { runtime, ...defaults } = options;
    this.#defaults = defaults;
    this.#runtime = runtime;
  }

  /** Governs `agent` in place with the client's defaults merged under `config`; returns it. */
  instrument<T>(agent: T, config: Partial<TollgateConfig> & { agentId?: string } = {}): T {
    return instrumentWith(this.#runtimeInUse().governor(this.#merge(config)), agent);
  }

  /** The seed's legacy alias of {@link TollgateClient.instrument}. */
  wrap<T>(agent: T, config: Partial<TollgateConfig> = {}): T {
    return this.instrument(agent, config);
  }

  /** {@link wrapAnthropicTools} with the client's defaults. */
  wrapAnthropicTools<T extends Record<string, (...params: never[]) => unknown>>(functions: T, config: Partial<TollgateConfig> = {}): GovernedRecord<T> {
    return governFunctionRecord(this.#runtimeInUse().governor(this.#merge(config)), functions);
  }

  /** {@link wrapOpenAITools} with the client's defaults. */
  wrapOpenAITools<T extends Record<string, (...params: never[]) => unknown>>(functions: T, config: Partial<TollgateConfig> = {}): GovernedRecord<T> {
    return this.wrapAnthropicTools(functions, config);
  }

  /** Sends queued events. */
  flush(timeoutMs?: number): Promise<boolean> {
    return this.#runtimeInUse().flush(timeoutMs);
  }

  /** Flushes and stops the client's event queues. */
  shutdown(timeoutMs?: number): Promise<boolean> {
    return this.#runtimeInUse().shutdown(timeoutMs);
  }

  #runtimeInUse(): TollgateRuntime {
    return this.#runtime ?? getDefaultRuntime();
  }

  #merge(config: Partial<TollgateConfig>): TollgateConfig {
    return { ...this.#defaults, ...config, agentId: config.agentId ?? this.#defaults.agentId ?? '' };
  }
}

/** The seed SDK's name for {@link TollgateClient}. */
export const ThothClient = TollgateClient;
export type ThothClient = TollgateClient;
