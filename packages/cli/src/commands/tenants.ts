import { TollgateError } from '@tollgate/core';
import type { Command } from 'commander';
import { printableText } from '../printable-text.js';
import { print, withServices, withStorageFlags, type StorageFlags } from './shared.js';

/**
 * `tollgate tenants create <id> [--name]`, `tollgate tenants list`, `tollgate tenants retention <id> <days|default>`
 * (directly on the database).
 *
 * @example
 * registerTenantsCommand(program);
 */
export function registerTenantsCommand(program: Command): void {
  const tenants = program.command('tenants').description('Manage tenants');
  withStorageFlags(tenants.command('create <id>').description('Create a tenant'))
    .option('--name <name>', 'display name')
    .action(async (id: string, flags: StorageFlags & { name?: string }) => {
      const tenant = await withServices(flags, (services) => services.tenants.create({ id, name: flags.name }), { create: true });
      print(`Created tenant ${tenant.id}`);
    });
  withStorageFlags(tenants.command('list').description('List tenants')).action(async (flags: StorageFlags) => {
    const list = await withServices(flags, (services) => services.tenants.list());
    for (const tenant of list) print([tenant.id, tenant.name, new Date(tenant.createdAt).toISOString(), retentionText(tenant.retentionDays)].map((cell) => printableText(cell)).join('\t'));
  });
  withStorageFlags(
    tenants.command('retention <id> <days>').description("Set a tenant's data-retention period in days (0 = keep everything), or `default` for the server's TOLLGATE_RETENTION_DAYS"),
  ).action(async (id: string, days: string, flags: StorageFlags) => {
    const value = days === 'default' ? null : /^\d+$/.test(days) ? Number(days) : Number.NaN;
    if (Number.isNaN(value)) throw new TollgateError('VALIDATION_FAILED', `days must be a whole number or "default", got ${JSON.stringify(days)}`);
    const tenant = await withServices(flags, (services) => services.tenants.setRetention(id, value));
    print(`Tenant ${tenant.id}: ${retentionText(tenant.retentionDays)}`);
  });
}

function retentionText(days: number | null | undefined): string {
  if (days === null || days === undefined) return 'retention: server default';
  return days === 0 ? 'retention: keep everything' : `retention: ${days} days`;
}
