import type { Command } from 'commander';
import { TollgateError } from '@tollgate/core';
import { SYSTEM_TENANT_ID } from '@tollgate/server';
import { printableText } from '../printable-text.js';
import { print, withServices, withStorageFlags, type StorageFlags } from './shared.js';

const DURATION = /^(\d+)([smhd])$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * `--expires` accepts an ISO date-time or a duration from now (`30d`, `12h`, `90m`, `45s`).
 *
 * @example
 * parseExpiry('30d', Date.now());
 */
export function parseExpiry(value: string, now: number): number {
  const duration = DURATION.exec(value.trim());
  if (duration?.[1] && duration[2]) return now + Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS];
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new TollgateError('VALIDATION_FAILED', `Invalid --expires ${value}: use an ISO date-time or 30d/12h/90m/45s`);
  return ms;
}

interface KeyFlags extends StorageFlags {
  tenant: string;
}

/**
 * `tollgate keys create|list|revoke` (directly on the database; same rules as the admin API).
 *
 * @example
 * registerKeysCommand(program);
 */
export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('Manage API keys');
  withStorageFlags(keys.command('create').description('Create an API key; prints the secret once'))
    .option('--tenant <id>', 'tenant', SYSTEM_TENANT_ID)
    .requiredOption('--scopes <list>', 'comma-separated: admin, enforce, events:write, agents, audit:read, approvals, policies')
    .option('--name <name>', 'label')
    .option('--expires <when>', 'ISO date-time or duration (30d, 12h)')
    .option('--agents <list>', 'comma-separated exact agent ids (sandbox agents: names) the key may act for (scopes enforce, events:write, agents only); default every agent')
    .action(async (flags: KeyFlags & { scopes: string; name?: string; expires?: string; agents?: string }) => {
      const scopes = flags.scopes.split(',').map((scope) => scope.trim()).filter(Boolean);
      // Split only: the server refuses empty or space-padded ids rather than the CLI silently changing them.
      const agentIds = flags.agents === undefined ? undefined : flags.agents.split(',');
      const { record, token } = await withServices(flags, (services) =>
        services.keys.create({
          tenantId: flags.tenant,
          scopes,
          name: flags.name,
          expiresAt: flags.expires ? parseExpiry(flags.expires, services.clock.now()) : null,
          agentIds,
        }),
        { create: true },
      );
      const agents = record.agentIds === null ? '' : `, agents: ${record.agentIds.join(',')}`;
      print(`Created key ${record.id} for tenant ${record.tenantId} (scopes: ${record.scopes.join(',')}${agents}). Secret, shown only now:`);
      print(token);
    });
  withStorageFlags(keys.command('list').description('List API keys of a tenant'))
    .option('--tenant <id>', 'tenant', SYSTEM_TENANT_ID)
    .action(async (flags: KeyFlags) => {
      const list = await withServices(flags, (services) => services.keys.list(flags.tenant));
      const now = Date.now();
      for (const key of list) {
        const status = key.revokedAt !== null ? 'revoked' : key.expiresAt !== null && key.expiresAt <= now ? 'expired' : 'active';
        const expires = key.expiresAt === null ? '-' : new Date(key.expiresAt).toISOString();
        const cells = [key.id, status, key.scopes.join(','), `expires ${expires}`, key.name, ...(key.agentIds === null ? [] : [`agents ${key.agentIds.join(',')}`])];
        // Names and agent ids were typed by someone else (through the API, the dashboard): printed inert.
        print(cells.map((cell) => printableText(cell)).join('\t'));
      }
    });
  withStorageFlags(keys.command('revoke <id>').description('Revoke an API key'))
    .option('--tenant <id>', 'tenant', SYSTEM_TENANT_ID)
    .action(async (id: string, flags: KeyFlags) => {
      await withServices(flags, (services) => services.keys.revoke(flags.tenant, id));
      print(`Revoked key ${id}`);
    });
}
