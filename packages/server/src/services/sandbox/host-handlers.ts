import { TollgateError } from '@tollgate/core';
import type { HostHandlers, HttpRequestArgs, HttpResponseData, HostCallContext, JsonValue, ResolvedSandboxConfig } from '@tollgate/sandbox';
import { credentialTooShort, isTooShortForSandbox, redactCredentials, referencedCredentials, substituteCredentials } from './credential-references.js';

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
  /**
   * Current and earlier values of these credentials (no use recorded), active value first, scrubbed from every
   * response.
   */
  scrubValues?: (names: readonly string[]) => Promise<Map<string, string[]>>;
  readContext: (key: string) => Promise<unknown>;
  fetch: OutboundFetch;
  /**
   * A response (or a redirect hop or error message) held the value of a granted credential that no request of this
   * run carried: agent code may be probing for it (the marker tells it which guess was right), or reading back a value
   * stored upstream in an earlier run. Recorded as a violation.
   */
  onUnsentCredential?: (event: UnsentCredentialEvent) => void;
}

/** What {@link HostHandlerDeps.onUnsentCredential} hears: the credential names found, and where. */
export interface UnsentCredentialEvent {
  credentials: string[];
  /** `GET https://host/path` of the request whose response held them, or `redirect or error message`. */
  source: string;
}

/**
 * Host functions of one execution. `http_request` swaps `{{credential:NAME}}` in header values for the sealed
 * value right before the request leaves, and scrubs the value out of the response, so agent code, logs, the
 * output and the ledger never see it. A granted or referenced value shorter than `MIN_SANDBOX_CREDENTIAL_LENGTH` fails
 * the request with `CREDENTIAL_TOO_SHORT`: the scrubbing marker would let agent code guess it.
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
  // Scrubs `value`, adding to `unsent` the granted values found that this run never sent (the ordinary echo of a sent
  // header is no probe); `lowerCase` for the pass over lower-cased values (a redirect's host).
  const scrub = <T>(value: T, pairs: Iterable<readonly [string, string]>, unsent: Set<string>, lowerCase = false): T => {
    const wasSent = lowerCase ? new Set([...sent.keys()].map((secret) => secret.toLowerCase())) : sent;
    return redactCredentials(value, pairs, (name, secret) => { if (!wasSent.has(secret)) unsent.add(name); });
  };
  const report = (unsent: Set<string>, source: string): void => {
    if (unsent.size > 0) deps.onUnsentCredential?.({ credentials: [...unsent].sort(), source });
  };
  return {
    // Redirect hops and error messages the broker records or hands to the guest: an upstream that puts a header it
    // was sent into a redirect's host (lower-cased by URL parsing) or path would otherwise leak it there.
    redact: (text: string): string => {
      const pairs = secretPairs();
      if (pairs.length === 0) return text;
      const unsent = new Set<string>();
      const result = scrub(scrub(text, pairs, unsent), pairs.map(([name, value]) => [name, value.toLowerCase()] as const), unsent, true);
      report(unsent, 'redirect or error message');
      return result;
    },
    http_request: async (request: HttpRequestArgs, context: HostCallContext): Promise<HttpResponseData> => {
      const names = referencedCredentials(request.headers);
      const denied = names.filter((name) => !deps.allowedCredentials.includes(name));
      if (denied.length > 0) {
        throw new TollgateError('CREDENTIAL_UNKNOWN', `credential(s) not granted to this agent: ${denied.join(', ')}`);
      }
      // Granted values first: one too short to scrub without an oracle refuses every request of the run, used or not.
      if (deps.scrubValues && deps.allowedCredentials.length > 0) granted ??= deps.scrubValues(deps.allowedCredentials).then(usableGrants);
      if (granted) known = await granted;
      let outgoing = request;
      const credentialHeaders = Object.keys(request.headers).filter((header) => referencedCredentials({ [header]: request.headers[header]! }).length > 0);
      if (names.length > 0) {
        const values = await deps.resolveCredentials(names, { agentId: String(deps.agentId), executionId: String(context.executionId) });
        for (const [name, value] of values) if (isTooShortForSandbox(value)) throw credentialTooShort(name);
        outgoing = { ...request, headers: substituteCredentials(request.headers, values) };
        for (const [name, value] of values) sent.set(value, name);
      }
      const response = await deps.fetch(outgoing, deps.config, context.signal, context.onRedirect, credentialHeaders);
      const pairs = secretPairs();
      if (pairs.length === 0) return response;
      const unsent = new Set<string>();
      const scrubbed = scrub(response, pairs, unsent);
      report(unsent, `${request.method} ${describeUrl(request.url)}`);
      return scrubbed;
    },
    read_context: async (key: string): Promise<JsonValue | null> => (await deps.readContext(key)) as JsonValue | null,
  };
}

/**
 * The granted values a run may scrub: refuses the run's requests when a credential's active value (listed first) is
 * too short, and drops short values it replaced by rotation (revoked here; scrubbing them would still be an oracle).
 */
function usableGrants(values: Map<string, string[]>): Map<string, string[]> {
  const usable = new Map<string, string[]>();
  for (const [name, list] of values) {
    if (list[0] !== undefined && isTooShortForSandbox(list[0])) throw credentialTooShort(name);
    usable.set(name, list.filter((value) => !isTooShortForSandbox(value)));
  }
  return usable;
}

/** Scheme, host and path of a URL for the ledger: no user info, query or fragment (tokens live there). */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`.slice(0, 300);
  } catch {
    return '<invalid url>';
  }
}
