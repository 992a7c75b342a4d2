import type { Command } from 'commander';
import { registerApprovalsCommand } from './approvals.js';
import { registerAuditCommand } from './audit.js';
import { registerKeysCommand } from './keys.js';
import { registerMigrateCommand } from './migrate.js';
import { registerPolicyCommand } from './policy.js';
import { registerSafetyCommand } from './safety.js';
import { registerServeCommand } from './serve.js';
import { registerTenantsCommand } from './tenants.js';

/**
 * Every command, one line per area. Shared registration point: add `commands/<area>.ts` exporting
 * `register<Area>Command(program)` and one line here.
 */
export const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  registerServeCommand,
  registerMigrateCommand,
  registerTenantsCommand,
  registerKeysCommand,
  registerAuditCommand,
  registerSafetyCommand,
  registerPolicyCommand,
  registerApprovalsCommand,
];
