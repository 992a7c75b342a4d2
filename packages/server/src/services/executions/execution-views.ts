import type { SandboxExecution } from '../../store/repositories/sandbox-executions.js';

/** The seed's execution response (`POST …/execute`), plus `error` only when the run did not complete. */
export interface ExecutionResponse {
  execution_id: number;
  status: string;
  output: unknown;
  resource_usage: Record<string, number>;
  host_call_audit: Record<string, unknown>[];
  violation_count: number;
  was_terminated: boolean;
  error?: { code: string; message: string };
}

/** Execution detail (`GET …/executions/:eid`): the response plus logs, input, timing and verification data. */
export interface ExecutionDetail extends Omit<ExecutionResponse, 'error'> {
  error: { code: string; message: string } | null;
  agent_id: number;
  input: unknown;
  logs: Record<string, unknown>[];
  termination_reason: string | null;
  code_hash: string;
  input_hash: string;
  output_hash: string | null;
  ledger_index: number | null;
  resolved_config: Record<string, unknown>;
  started_at: string;
  finished_at: string | null;
}

/**
 * The seed's response shape for one execution.
 *
 * @example
 * reply.send(toExecutionResponse(execution));
 */
export function toExecutionResponse(execution: SandboxExecution): ExecutionResponse {
  return {
    execution_id: execution.id,
    status: execution.status,
    output: execution.output,
    resource_usage: execution.resourceUsage,
    host_call_audit: execution.hostCallAudit as Record<string, unknown>[],
    violation_count: execution.violationCount,
    was_terminated: execution.wasTerminated,
    ...(execution.error === null ? {} : { error: execution.error }),
  };
}

/**
 * Full detail of an execution.
 *
 * @example
 * reply.send(toExecutionDetail(execution));
 */
export function toExecutionDetail(execution: SandboxExecution): ExecutionDetail {
  return {
    ...toExecutionResponse(execution),
    error: execution.error,
    agent_id: execution.agentId,
    input: execution.input,
    logs: execution.logs as Record<string, unknown>[],
    termination_reason: execution.terminationReason,
    code_hash: execution.codeHash,
    input_hash: execution.inputHash,
    output_hash: execution.outputHash,
    ledger_index: execution.ledgerIndex,
    resolved_config: execution.resolvedConfig,
    started_at: new Date(execution.startedAt).toISOString(),
    finished_at: execution.finishedAt === null ? null : new Date(execution.finishedAt).toISOString(),
  };
}
