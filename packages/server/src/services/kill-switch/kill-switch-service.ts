import { TollgateError } from '@tollgate/core';
import { GLOBAL_KILL_AGENT } from '../../store/repositories/kill-switches.js';
import type { KillSwitchRecord, KillSwitchRepository } from '../../store/repositories/kill-switches.js';
import type { Bus } from '../bus.js';
import type { Clock } from '../clock.js';

/** Bus channel of kill-switch changes (the sandbox terminates running executions on it). */
export const KILL_CHANNEL = 'kill';

/** Message published on {@link KILL_CHANNEL}. `agentId` null means the whole tenant. */
export interface KillMessage {
  tenantId: string;
  agentId: string | null;
  global: boolean;
  halted: boolean;
  reason: string | null;
  actor: string | null;
  at: number;
}

/** Appends a kill-switch change to the ledger (wired when the ledger service exists). */
export type KillLedgerAppend = (tenantId: string, entry: { type: string; actor?: string | null; agentId?: string; isViolation?: boolean; data: unknown }) => Promise<unknown>;

export interface KillSwitchState {
  global: { halted: boolean; reason: string | null; actor: string | null; updatedAt: number | null };
  agents: Array<{ agentId: string; halted: boolean; reason: string | null; actor: string | null; updatedAt: number }>;
}

/**
 * Per-agent and tenant-wide kill switches. State lives in the database; every replica keeps the halted
 * switches in memory (loaded at start, kept current through the bus), so `haltReason` costs one Map lookup
 * on the enforce path.
 *
 * @example
 * await killSwitch.killAgent('acme', 'research-agent', 'leaking data', 'key_1');
 * killSwitch.haltReason('acme', 'research-agent') // 'agent research-agent halted: leaking data'
 */
export class KillSwitchService {
  /** Tenant → halted global switch. */
  private readonly globals = new Map<string, KillSwitchRecord>();
  /** Tenant → matching key of an agent id ({@link killSwitchKey}) → exact agent id → its halted switch. */
  private readonly halted = new Map<string, Map<string, Map<string, KillSwitchRecord>>>();
  private unsubscribe: (() => void) | null = null;
  /** Stored switches being read back, one after another ({@link reload}). */
  private reloads: Promise<void> = Promise.resolve();

  constructor(private readonly deps: {
    repository: KillSwitchRepository; bus: Bus; clock: Clock; appendLedger?: KillLedgerAppend | undefined;
    /** A switch could not be read back after a change (the in-memory state stays as it was). */
    onReloadError?: (error: unknown) => void;
  }) {}

  /** Loads halted switches and follows changes made on other replicas. */
  async start(): Promise<void> {
    for (const record of await this.deps.repository.listHalted()) this.remember(record);
    this.unsubscribe = this.deps.bus.subscribe(KILL_CHANNEL, (payload) => {
      const message = payload as KillMessage;
      if (typeof message?.tenantId !== 'string') return;
      this.reload(message.tenantId, message.global ? GLOBAL_KILL_AGENT : String(message.agentId));
    });
  }

  /**
   * Sets the switch to what the store holds now. A message says what one replica wrote, not what was written last:
   * with a kill on one replica and a revive on another at the same moment, each replica received the other's
   * message after its own write and kept it, so one replica allowed an agent that the stored switch (and the
   * other replica) showed halted. Every change is published after it is stored, and every replica reads the row
   * after each message, one read at a time in the order the messages came: the last read sees the last write.
   */
  private reload(tenantId: string, agentId: string): Promise<void> {
    this.reloads = this.reloads.then(async () => {
      const stored = await this.deps.repository.get(tenantId, agentId);
      this.remember(stored ?? { tenantId, agentId, halted: false, reason: null, actor: null, updatedAt: this.deps.clock.now() });
    }).catch((error: unknown) => this.deps.onReloadError?.(error));
    return this.reloads;
  }

  /** Resolves once every switch read started so far has been applied (tests, shutdown). */
  settled(): Promise<void> {
    return this.reloads;
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** Switches engaged right now (as this process knows them): tenants halted as a whole and halted agents. */
  haltedCounts(): { global: number; agents: number } {
    let agents = 0;
    for (const byKey of this.halted.values()) for (const spellings of byKey.values()) agents += spellings.size;
    return { global: this.globals.size, agents };
  }

  /**
   * Why calls of this agent are refused right now, or null. The tenant-wide switch wins. The agent id is matched
   * under {@link killSwitchKey}: a halted agent is not reached by calling it `Bot`, ` bot ` or `b\u200bot`.
   */
  haltReason(tenantId: string, agentId: string): string | null {
    const global = this.globals.get(tenantId);
    if (global) return `global kill switch engaged${global.reason ? `: ${global.reason}` : ''}`;
    const spellings = this.halted.get(tenantId)?.get(killSwitchKey(agentId));
    const agent = spellings?.get(agentId) ?? spellings?.values().next().value;
    return agent ? `agent ${agent.agentId} halted by kill switch${agent.reason ? `: ${agent.reason}` : ''}` : null;
  }

  killAgent(tenantId: string, agentId: string, reason: string | null, actor: string | null): Promise<KillMessage> {
    return this.change(tenantId, agentIdOrRefuse(agentId), true, reason, actor);
  }

  /** Releases exactly this spelling: another spelling halted on its own stays halted. */
  reviveAgent(tenantId: string, agentId: string, reason: string | null, actor: string | null): Promise<KillMessage> {
    return this.change(tenantId, agentIdOrRefuse(agentId), false, reason, actor);
  }

  setGlobal(tenantId: string, halted: boolean, reason: string | null, actor: string | null): Promise<KillMessage> {
    return this.change(tenantId, GLOBAL_KILL_AGENT, halted, reason, actor);
  }

  async state(tenantId: string): Promise<KillSwitchState> {
    const records = await this.deps.repository.list(tenantId);
    const global = records.find((record) => record.agentId === GLOBAL_KILL_AGENT);
    return {
      global: { halted: global?.halted ?? false, reason: global?.reason ?? null, actor: global?.actor ?? null, updatedAt: global?.updatedAt ?? null },
      agents: records.filter((record) => record.agentId !== GLOBAL_KILL_AGENT)
        .map(({ agentId, halted, reason, actor, updatedAt }) => ({ agentId, halted, reason, actor, updatedAt })),
    };
  }

  private async change(tenantId: string, agentId: string, halted: boolean, reason: string | null, actor: string | null): Promise<KillMessage> {
    const at = this.deps.clock.now();
    const record: KillSwitchRecord = { tenantId, agentId, halted, reason, actor, updatedAt: at };
    await this.deps.repository.set(record);
    // At once, so this replica's next decision sees it; then read back in turn with the other replicas' messages
    // (a read of an earlier message may still be on its way with the row as it was before this write), so a
    // concurrent change stored after this one wins here too. The change answers once that read is applied.
    this.remember(record);
    await this.reload(tenantId, agentId);
    const global = agentId === GLOBAL_KILL_AGENT;
    const message: KillMessage = { tenantId, agentId: global ? null : agentId, global, halted, reason, actor, at };
    await this.deps.bus.publish(KILL_CHANNEL, message);
    await this.deps.appendLedger?.(tenantId, {
      type: halted ? 'kill_switch.engaged' : 'kill_switch.released', actor,
      ...(global ? {} : { agentId }), isViolation: false, data: { scope: global ? 'global' : 'agent', reason },
    });
    return message;
  }

  private remember(record: KillSwitchRecord): void {
    if (record.agentId === GLOBAL_KILL_AGENT) {
      if (record.halted) this.globals.set(record.tenantId, record);
      else this.globals.delete(record.tenantId);
      return;
    }
    const key = killSwitchKey(record.agentId);
    let tenant = this.halted.get(record.tenantId);
    if (record.halted) {
      if (tenant === undefined) this.halted.set(record.tenantId, (tenant = new Map()));
      let spellings = tenant.get(key);
      if (spellings === undefined) tenant.set(key, (spellings = new Map()));
      spellings.set(record.agentId, record);
      return;
    }
    const spellings = tenant?.get(key);
    spellings?.delete(record.agentId);
    if (spellings?.size === 0) tenant?.delete(key);
    if (tenant?.size === 0) this.halted.delete(record.tenantId);
  }
}

const INVISIBLE = /\p{Cf}/gu;

/**
 * The form under which a kill switch matches agent ids: Unicode NFKC, invisible format characters (zero-width
 * space, joiners, soft hyphen, BOM, direction marks) removed, surrounding whitespace trimmed, lower case. Halting
 * errs on the side of halting: every spelling that folds to the same key is refused.
 *
 * @example
 * killSwitchKey(' Research\u200b-Agent ') // 'research-agent'
 */
export function killSwitchKey(agentId: string): string {
  return agentId.normalize('NFKC').replace(INVISIBLE, '').trim().toLowerCase();
}

/** `*` is where the tenant-wide switch is stored: as an agent id it would halt or release every agent. */
function agentIdOrRefuse(agentId: string): string {
  if (agentId === GLOBAL_KILL_AGENT || killSwitchKey(agentId) === GLOBAL_KILL_AGENT) {
    throw new TollgateError('VALIDATION_FAILED', 'agent id "*" is reserved for the tenant-wide kill switch: use POST /api/sdk/kill-switch/global');
  }
  return agentId;
}
