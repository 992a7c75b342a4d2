import type { Command } from 'commander';
import { print, withServices, withStorageFlags, type StorageFlags } from './shared.js';

/**
 * `tollgate tenants create <id> [--name]`, `tollgate tenants list` (directly on the database).
 *
 * @example
 * registerTenantsCommand(program);
 */
export function registerTenantsCommand(program: Command): void {
  const tenants = program.command('tenants').description('Manage tenants');
  withStorageFlags(tenants.command('create <id>').description('Create a tenant'))
    .option('--name <name>', 'display name')
    .action(async (id: string, flags: StorageFlags & { name?: string }) => {
      const tenant = await withServices(flags, (services) => services.tenants.create({ id, name: flags.name }));
      print(`Created tenant ${tenant.id}`);
    });
  withStorageFlags(tenants.command('list').description('List tenants')).action(async (flags: StorageFlags) => {
    const list = await withServices(flags, (services) => services.tenants.list());
    for (const tenant of list) print(`${tenant.id}\t${tenant.name}\t${new Date(tenant.createdAt).toISOString()}`);
  });
}
