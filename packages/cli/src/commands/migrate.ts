import type { Command } from 'commander';
import { migrateStore } from '@tollgate/server';
import { configFrom, openCommandStore, print, withStorageFlags, type StorageFlags } from './shared.js';

/**
 * `tollgate migrate`: applies pending migrations and exits (start-up does the same).
 *
 * @example
 * registerMigrateCommand(program);
 */
export function registerMigrateCommand(program: Command): void {
  withStorageFlags(program.command('migrate').description('Apply pending database migrations')).action(async (flags: StorageFlags) => {
    const store = openCommandStore(configFrom(flags), { create: true });
    try {
      const result = await migrateStore(store);
      print(result.applied.length ? `Applied migrations ${result.applied.join(', ')}; schema version ${result.current}` : `Schema up to date (version ${result.current})`);
    } finally {
      await store.close();
    }
  });
}
