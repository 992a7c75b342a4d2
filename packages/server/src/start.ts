import type { Logger } from 'pino';
import { createServer, type TollgateServer } from './app.js';
import type { TollgateConfig } from './config.js';
import type { Clock } from './services/clock.js';
import type { BootstrapResult } from './services/tenants/index.js';
import { migrateStore, openStore, type Store } from './store/index.js';

/** Options of {@link startTollgate}. */
export interface StartOptions {
  readonly config: TollgateConfig;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/** A running Tollgate. */
export interface RunningTollgate {
  readonly url: string;
  readonly server: TollgateServer;
  readonly store: Store;
  /** `generatedAdminKey` is set only on the first start without TOLLGATE_ADMIN_KEY. */
  readonly bootstrap: BootstrapResult;
  /** Drains in-flight requests, then closes services and the database; idempotent. */
  close(): Promise<void>;
}

/**
 * Opens and migrates the configured store, bootstraps tenant `default`, builds the server and listens.
 *
 * @example
 * const running = await startTollgate({ config: loadConfig() });
 * console.log(running.url, running.bootstrap.generatedAdminKey);
 */
export async function startTollgate(options: StartOptions): Promise<RunningTollgate> {
  const { config } = options;
  const store = openStore(config);
  let server: TollgateServer | undefined;
  try {
    await migrateStore(store);
    server = await createServer({ config, store, ...(options.logger ? { logger: options.logger } : {}), ...(options.clock ? { clock: options.clock } : {}) });
    const bootstrap = await server.services.tenants.bootstrap(config.adminKey);
    const url = await server.listen();
    const running = server;
    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= running.close().finally(() => store.close());
      return closing;
    };
    return { url, server: running, store, bootstrap, close };
  } catch (error) {
    // A half-started server (e.g. the port is taken) must not keep timers or connections alive.
    await server?.close().catch(() => undefined);
    await store.close();
    throw error;
  }
}
