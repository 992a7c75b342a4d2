/**
 * A versioned schema change with SQL for both dialects. Shipped migrations are never edited: a later change to an
 * area adds a new number. Statements run in order inside one transaction per migration.
 */
export interface Migration {
  /** Unique, increasing. Foundation 0001, enforcement 0002, ledger 0003, events 0004, sandbox 0005, safety 0006, dashboard 0007, then 0008+. */
  readonly version: number;
  /** Short area name, e.g. `foundation`. */
  readonly name: string;
  readonly sqlite: readonly string[];
  readonly postgres: readonly string[];
}
