import { TollgateError } from '@tollgate/core';
import type { HostHandlers, HttpRequestArgs, HttpResponseData, HostCallContext, JsonValue, ResolvedSandboxConfig } from '@tollgate/sandbox';
import { redactCredentials, referencedCredentials, substituteCredentials } from './credential-references.js';

/**
 * Performs the outbound request after credential substitution (the runtime's SSRF-guarded fetch); `onRedirect`
 * receives each redirect target it follows, for the host-call audit.
 */
export type OutboundFetch = (
  request: HttpRequestArgs, config: ResolvedSandboxConfig, signal: AbortSignal, onRedirect?: (url: URL) => void,
) => Promise<HttpResponseData>;

export interface HostHandlerDeps {
  tenantId: string;
  agentId: number;
  config: ResolvedSandboxConfig;
  /** Credential names this agent may reference (agent config `credentials`). */
  allowedCredentials: readonly string[];
  resolveCredentials: (names: readonly string[], context: { agentId: string; executionId: string }) => Promise<Map<string, string>>;
  readContext: (key: string) => Promise<unknown>;
  fetch: OutboundFetch;
}

/**
 * Host functions of one execution. `http_request` swaps `{{credential:NAME}}` in header values for the sealed
 * value right before the request leaves, and scrubs the value out of the response, so agent code, logs, the
 * output and the ledger never see it.
 *
 * @example
 * const handlers = createHostHandlers({ tenantId, agentId, config, allowedCredentials: ['openweather'], ... });
 */
export function createHostHandlers(deps: HostHandlerDeps): HostHandlers {
  return {
    http_request: async (request: HttpRequestArgs, context: HostCallContext): Promise<HttpResponseData> => {
      const names = referencedCredentials(request.headers);
      const denied = names.filter((name) => !deps.allowedCredentials.includes(name));
      if (denied.length > 0) {
        throw new TollgateError('CREDENTIAL_UNKNOWN', `credential(s) not granted to this agent: ${denied.join(', ')}`);
      }
      if (names.length === 0) return deps.fetch(request, deps.config, context.signal, context.onRedirect);
      const values = await deps.resolveCredentials(names, { agentId: String(deps.agentId), executionId: String(context.executionId) });
      const substituted = { ...request, headers: substituteCredentials(request.headers, values) };
      const response = await deps.fetch(substituted, deps.config, context.signal, context.onRedirect);
      return redactCredentials(response, values);
    },
    read_context: async (key: string): Promise<JsonValue | null> => (await deps.readContext(key)) as JsonValue | null,
  };
}
