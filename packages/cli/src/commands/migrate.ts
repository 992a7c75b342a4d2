import type { Command } from 'commander';
import { migrateStore, openStore } from '@tollgate/server';
import { configFrom, print, withStorageFlags, type StorageFlags } from './shared.js';

/**
 * `tollgate migrate`: applies pending migrations and exits (start-up does the same).
 *
 * @example
 * registerMigrateCommand(program);
 */
export function registerMigrateCommand(program: Command): void {
  withStorageFlags(program.command('migrate').description('Apply pending database migrations')).action(async (flags: StorageFlags) => {
    const store = openStore(configFrom(flags));
    try {
      const result = await migrateStore(store);
      print(result.applied.length ? `Applied migrations ${result.applied.join(', ')}; schema version ${result.current}` : `Schema up to date (version ${result.current})`);
    } finally {
      await store.close();
    }
  });
}
