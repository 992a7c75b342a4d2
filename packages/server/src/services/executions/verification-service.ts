import type { SandboxExecution } from '../../store/repositories/sandbox-executions.js';
import { canonicalJson } from '@tollgate/core';
import { jsonHash, type StatementSignature, type StatementSigner } from './statement-signer.js';

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
  /** SHA-256 of the canonical JSON of the stored (secret-masked) log lines. */
  logs_hash: string;
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
  /**
   * True when the execution's ledger record is included under the latest checkpoint and the stored record (input,
   * output, logs, status, error, hash columns) still hashes to what that ledger record says.
   */
  chain_valid: boolean;
  /** What disagrees when `chain_valid` is false: `ledger_record`, `input_hash`, `output_hash`, `logs_hash`, `code_hash`, `status`, `error`. */
  mismatches: string[];
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
  // Hashes are recomputed from the stored record (which is stored secret-masked, and hashed that way when it was
  // written), so the statement describes exactly what a holder of GET …/executions/:eid can hash again.
  const hashes = storedHashes(execution);
  const statement: ExecutionStatement = {
    type: STATEMENT_TYPE, tenant_id: execution.tenantId, execution_id: execution.id, agent_id: execution.agentId,
    status: execution.status, code_hash: execution.codeHash, ...hashes,
    resolved_config: execution.resolvedConfig, ledger_index: execution.ledgerIndex,
    started_at: new Date(execution.startedAt).toISOString(),
    finished_at: execution.finishedAt === null ? null : new Date(execution.finishedAt).toISOString(), tee_mode: 'none',
  };
  const mismatches = await findMismatches(execution, hashes, deps.checkLedger);
  return {
    execution_id: execution.id, tee_mode: 'none', attestation_id: null,
    chain_valid: mismatches.length === 0, mismatches, ledger_index: execution.ledgerIndex,
    statement, signature: deps.signer.sign(statement), verified_at: new Date(deps.now()).toISOString(), note: NO_TEE_NOTE,
  };
}

type StoredHashes = Pick<ExecutionStatement, 'input_hash' | 'output_hash' | 'logs_hash'>;

function storedHashes(execution: SandboxExecution): StoredHashes {
  return {
    input_hash: jsonHash(execution.input),
    // No output hash yet (still running, or refused before the sandbox ran): stays null.
    output_hash: execution.outputHash === null ? null : jsonHash(execution.output),
    logs_hash: jsonHash(execution.logs),
  };
}

async function findMismatches(execution: SandboxExecution, hashes: StoredHashes, checkLedger: LedgerRecordCheck | undefined): Promise<string[]> {
  if (!checkLedger || execution.ledgerIndex === null) return ['ledger_record'];
  const { included, record } = await checkLedger(execution.tenantId, execution.ledgerIndex);
  if (!included || !record || record.type !== 'sandbox.execution' || record.executionId !== String(execution.id)) return ['ledger_record'];
  const data = (record.data ?? {}) as Record<string, unknown>;
  const mismatches: string[] = [];
  if (hashes.input_hash !== execution.inputHash || data.input_hash !== hashes.input_hash) mismatches.push('input_hash');
  if (hashes.output_hash !== execution.outputHash || data.output_hash !== hashes.output_hash) mismatches.push('output_hash');
  // Records written before logs were hashed carry no logs_hash; the ledger itself cannot lose one.
  if (data.logs_hash !== undefined && data.logs_hash !== hashes.logs_hash) mismatches.push('logs_hash');
  if (data.code_hash !== execution.codeHash) mismatches.push('code_hash');
  if (data.status !== execution.status) mismatches.push('status');
  if (canonicalJson(data.error ?? null) !== canonicalJson(execution.error)) mismatches.push('error');
  return mismatches;
}
