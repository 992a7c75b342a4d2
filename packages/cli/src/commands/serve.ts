import type { Command } from 'commander';
import { startTollgate, SYSTEM_TENANT_ID } from '@tollgate/server';
import { configFrom, print, withStorageFlags, type StorageFlags } from './shared.js';

/**
 * `tollgate serve [--port 8787] [--host 127.0.0.1] [--data-dir ./data]`: starts the server; on first start
 * prints the generated admin key of tenant `default`. SIGTERM/SIGINT drain in-flight requests and close the DB.
 *
 * @example
 * registerServeCommand(program);
 */
export function registerServeCommand(program: Command): void {
  withStorageFlags(program.command('serve').description('Start the Tollgate server'))
    .option('--port <port>', 'HTTP port (env TOLLGATE_PORT, default 8787)')
    .option('--host <host>', 'bind address (env TOLLGATE_HOST, default 127.0.0.1)')
    .action(async (flags: StorageFlags & { port?: string; host?: string }) => {
      const config = configFrom(flags);
      const running = await startTollgate({ config });
      print(`Tollgate listening on ${running.url} (storage: ${running.store.dialect === 'postgres' ? 'PostgreSQL' : `SQLite in ${config.dataDir}`})`);
      if (running.bootstrap.generatedAdminKey) {
        print(`First start: admin API key of tenant "${SYSTEM_TENANT_ID}" (shown only now, store it safely):`);
        print(`  ${running.bootstrap.generatedAdminKey}`);
      }
      const stop = (signal: string) => {
        running.server.app.log.info({ signal }, 'shutting down');
        running.close().then(
          () => process.exit(0),
          (error: unknown) => {
            process.stderr.write(`tollgate: shutdown failed: ${String(error)}\n`);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
