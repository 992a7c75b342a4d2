import type { Migration } from './types.js';
import { migration0004 } from './0004-events.js';
import { migration0001 } from './0001-foundation.js';
import { migration0003 } from './0003-ledger.js';
import { migration0005 } from './0005-sandbox.js';
import { migration0002 } from './0002-enforcement.js';
import { migration0007 } from './0007-dashboard.js';
import { migration0008 } from './0008-compliance.js';
import { migration0009 } from './0009-api-key-agents.js';
import { migration0010 } from './0010-agent-history.js';
import { migration0011 } from './0011-retention-indexes.js';
import { migration0012 } from './0012-tenant-retention.js';
import { migration0013 } from './0013-output-agents.js';
import { migration0014 } from './0014-scale-indexes.js';
import { migration0015 } from './0015-event-sessions.js';
import { migration0016 } from './0016-event-session-agents.js';
import { migration0017 } from './0017-call-filter-indexes.js';

/**
 * Every migration, in any order (the runner sorts by version). Shared registration point: add one import and
 * one array entry for your `NNNN-<area>.ts`.
 */
export const MIGRATIONS: readonly Migration[] = [migration0001, migration0003, migration0005, migration0002, migration0004, migration0007, migration0008, migration0009, migration0010, migration0011, migration0012, migration0013, migration0014, migration0015, migration0016, migration0017];

export type { Migration } from './types.js';
export { runMigrations, type MigrationResult } from './runner.js';
