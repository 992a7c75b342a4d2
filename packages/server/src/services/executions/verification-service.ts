import type { SandboxExecution } from '../../store/repositories/sandbox-executions.js';
import type { StatementSignature, StatementSigner } from './statement-signer.js';

/** What the ledger says about one record: is it included under a valid checkpoint, and what does it hold. */
export type LedgerRecordCheck = (tenantId: string, index: number) => Promise<{ included: boolean; record: { type: string; executionId: string | null; data: unknown } | null }>;

export const STATEMENT_TYPE = 'tollgate.execution-statement/v1';
/** Said in every answer, so nobody mistakes the signature for hardware attestation. */
export const NO_TEE_NOTE =
  'tee_mode "none": no hardware Trusted Execution Environment is involved. The statement is signed by this server\'s ' +
  'Ed25519 key; it proves what the server recorded (code, input, output, config, ledger position), not that the ' +
  'hardware ran untampered. Trust in it is trust in the server operator plus the ledger\'s signed checkpoints.';

export interface ExecutionStatement {
  type: typeof STATEMENT_TYPE;
  tenant_id: string;
  execution_id: number;
  agent_id: number;
  status: string;
  code_hash: string;
  input_hash: string;
  output_hash: string | null;
  resolved_config: Record<string, unknown>;
  ledger_index: number | null;
  started_at: string;
  finished_at: string | null;
  tee_mode: 'none';
}

export interface ExecutionVerification {
  execution_id: number;
  tee_mode: 'none';
  attestation_id: null;
  /** True when the execution's ledger record is included under the latest checkpoint and matches these hashes. */
  chain_valid: boolean;
  ledger_index: number | null;
  statement: ExecutionStatement;
  signature: StatementSignature;
  verified_at: string;
  note: string;
}

/**
 * Builds and signs the statement about one finished execution, and checks it against the ledger.
 *
 * @example
 * const proof = await verifyExecution(execution, { signer, checkLedger, now: Date.now });
 */
export async function verifyExecution(
  execution: SandboxExecution,
  deps: { signer: StatementSigner; checkLedger?: LedgerRecordCheck | undefined; now: () => number },
): Promise<ExecutionVerification> {
  const statement: ExecutionStatement = {
    type: STATEMENT_TYPE, tenant_id: execution.tenantId, execution_id: execution.id, agent_id: execution.agentId,
    status: execution.status, code_hash: execution.codeHash, input_hash: execution.inputHash, output_hash: execution.outputHash,
    resolved_config: execution.resolvedConfig, ledger_index: execution.ledgerIndex,
    started_at: new Date(execution.startedAt).toISOString(),
    finished_at: execution.finishedAt === null ? null : new Date(execution.finishedAt).toISOString(), tee_mode: 'none',
  };
  return {
    execution_id: execution.id, tee_mode: 'none', attestation_id: null,
    chain_valid: await chainValid(execution, deps.checkLedger), ledger_index: execution.ledgerIndex,
    statement, signature: deps.signer.sign(statement), verified_at: new Date(deps.now()).toISOString(), note: NO_TEE_NOTE,
  };
}

async function chainValid(execution: SandboxExecution, checkLedger: LedgerRecordCheck | undefined): Promise<boolean> {
  if (!checkLedger || execution.ledgerIndex === null) return false;
  const { included, record } = await checkLedger(execution.tenantId, execution.ledgerIndex);
  if (!included || !record || record.type !== 'sandbox.execution' || record.executionId !== String(execution.id)) return false;
  const data = record.data as { code_hash?: unknown; input_hash?: unknown; output_hash?: unknown };
  return data.code_hash === execution.codeHash && data.input_hash === execution.inputHash && data.output_hash === execution.outputHash;
}
