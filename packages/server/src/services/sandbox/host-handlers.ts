import { TollgateError } from '@tollgate/core';
import type { HostHandlers, HttpRequestArgs, HttpResponseData, HostCallContext, JsonValue, ResolvedSandboxConfig } from '@tollgate/sandbox';
import { redactCredentials, referencedCredentials, substituteCredentials } from './credential-references.js';

/**
 * Performs the outbound request after credential substitution (the runtime's SSRF-guarded fetch); `onRedirect`
 * receives each redirect target it follows, for the host-call audit; `credentialHeaders` names the headers that carry
 * a substituted credential, which must not follow a redirect to another origin.
 */
export type OutboundFetch = (
  request: HttpRequestArgs, config: ResolvedSandboxConfig, signal: AbortSignal, onRedirect?: (url: URL) => void,
  credentialHeaders?: readonly string[],
) => Promise<HttpResponseData>;

export interface HostHandlerDeps {
  tenantId: string;
  agentId: number;
  config: ResolvedSandboxConfig;
  /** Credential names this agent may reference (agent config `credentials`). */
  allowedCredentials: readonly string[];
  resolveCredentials: (names: readonly string[], context: { agentId: string; executionId: string }) => Promise<Map<string, string>>;
  /** Current and earlier values of these credentials (no use recorded), scrubbed from every response. */
  scrubValues?: (names: readonly string[]) => Promise<Map<string, string[]>>;
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
  // Every value substituted so far in this execution: an upstream that keeps what it was sent (a paste, an inbox, a
  // profile field) can hand it back to a later call that carries no reference, so every response is scrubbed of all.
  const sent = new Map<string, string>(); // value -> name (a name rotated mid-run keeps both values)
  // And every value of the credentials granted to the agent, current and rotated, loaded on the first request of the
  // run: a value sent upstream in an earlier run (kept in a paste, a profile, an inbox) can be read back in this one
  // by a request that references nothing.
  let granted: Promise<Map<string, string[]>> | undefined;
  let known: Map<string, string[]> | undefined;
  const secretPairs = (): Array<readonly [string, string]> => {
    const pairs: Array<readonly [string, string]> = [...sent].map(([value, name]) => [name, value] as const);
    for (const [name, values] of known ?? []) for (const value of values) if (!sent.has(value)) pairs.push([name, value]);
    return pairs;
  };
  return {
    // Redirect hops and error messages the broker records or hands to the guest: an upstream that puts a header it
    // was sent into a redirect's host (lower-cased by URL parsing) or path would otherwise leak it there.
    redact: (text: string): string => {
      const pairs = secretPairs();
      if (pairs.length === 0) return text;
      return redactCredentials(redactCredentials(text, pairs), pairs.map(([name, value]) => [name, value.toLowerCase()] as const));
    },
    http_request: async (request: HttpRequestArgs, context: HostCallContext): Promise<HttpResponseData> => {
      const names = referencedCredentials(request.headers);
      const denied = names.filter((name) => !deps.allowedCredentials.includes(name));
      if (denied.length > 0) {
        throw new TollgateError('CREDENTIAL_UNKNOWN', `credential(s) not granted to this agent: ${denied.join(', ')}`);
      }
      let outgoing = request;
      const credentialHeaders = Object.keys(request.headers).filter((header) => referencedCredentials({ [header]: request.headers[header]! }).length > 0);
      if (names.length > 0) {
        const values = await deps.resolveCredentials(names, { agentId: String(deps.agentId), executionId: String(context.executionId) });
        outgoing = { ...request, headers: substituteCredentials(request.headers, values) };
        for (const [name, value] of values) sent.set(value, name);
      }
      if (deps.scrubValues && deps.allowedCredentials.length > 0) granted ??= deps.scrubValues(deps.allowedCredentials);
      if (granted) known = await granted;
      const response = await deps.fetch(outgoing, deps.config, context.signal, context.onRedirect, credentialHeaders);
      const pairs = secretPairs();
      return pairs.length === 0 ? response : redactCredentials(response, pairs);
    },
    read_context: async (key: string): Promise<JsonValue | null> => (await deps.readContext(key)) as JsonValue | null,
  };
}

