import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { TollgateError } from '@tollgate/core';
import { classifyAddress, createAddressAllowList, METADATA_HOSTNAMES } from './address-policy.js';
import { domainsRefusal, normalizeHost, parseDomainEntry } from './domains.js';

/** One resolved address. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address (injected so tests never touch real DNS). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** What `http_request` may reach. Everything not listed is refused. */
export interface EgressPolicy {
  /**
   * `allowed_domains` of the agent: `host`, `*.host`, each optionally with `:port`. An entry without a port allows
   * the scheme's default port only. Empty = any public host, any port.
   */
  allowedDomains?: readonly string[];
  /** CIDRs exempt from the private/loopback/link-local/metadata refusal. Default none. */
  allowedAddressRanges?: readonly string[];
  /** Permit plain `http:`. Default false; meant for loopback test servers only. */
  allowHttp?: boolean;
}

/** A checked destination: connect to `address`, never re-resolve `url.hostname`. */
export interface EgressTarget {
  url: URL;
  hostname: string;
  address: string;
  family: 4 | 6;
}

/**
 * The system resolver: every A and AAAA record, in resolver order.
 *
 * @example
 * await systemResolver('example.com'); // [{ address: '93.184.215.14', family: 4 }, …]
 */
export const systemResolver: HostResolver = async (hostname) => {
  const records = await dnsLookup(hostname, { all: true, verbatim: true });
  return records.map((r) => ({ address: r.address, family: r.family === 6 ? 6 : 4 }));
};

/**
 * Checks a URL against the policy (scheme; host and port against `allowedDomains`) and resolves it, refusing the
 * request when ANY resolved address is private, loopback, link-local, CGNAT, unique-local, IPv4-mapped, translated,
 * reserved or a metadata endpoint (unless inside `allowedAddressRanges`). Returns the first address; callers must connect to it (see `guardedHttpRequest`) so a
 * second DNS answer cannot swap in another address (DNS rebinding). Throws `SANDBOX_EGRESS_DENIED`.
 *
 * @example
 * const target = await resolveEgressTarget('https://api.example.com/x', { allowedDomains: ['api.example.com'] });
 */
export async function resolveEgressTarget(
  rawUrl: string, policy: EgressPolicy = {}, resolver: HostResolver = systemResolver,
): Promise<EgressTarget> {
  let url: URL;
  try { url = new URL(rawUrl); } catch { throw denied('invalid URL', rawUrl); }
  const hostname = normalizeHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp === true)) {
    throw denied(`scheme ${url.protocol} is not allowed (HTTPS only)`, hostname);
  }
  if (url.username !== '' || url.password !== '') throw denied('credentials in the URL are not allowed', hostname);
  const domainRefusal = domainsRefusal(url, policy.allowedDomains ?? []);
  if (domainRefusal !== undefined) throw denied(domainRefusal, hostname);
  const isAllowedRange = createAddressAllowList(policy.allowedAddressRanges ?? []);
  const namedExactly = (policy.allowedDomains ?? []).some((entry) => parseDomainEntry(entry)?.host === hostname);
  if (METADATA_HOSTNAMES.includes(hostname) && !namedExactly) {
    throw denied(`${hostname} is a cloud metadata endpoint`, hostname);
  }
  const literal = isIP(hostname);
  const addresses = literal !== 0 ? [{ address: hostname, family: literal as 4 | 6 }] : await resolveAll(resolver, hostname);
  if (addresses.length === 0) throw denied(`${hostname} did not resolve`, hostname);
  for (const { address } of addresses) {
    const kind = classifyAddress(address);
    if (kind !== 'public' && !isAllowedRange(address)) {
      throw denied(`${hostname} resolves to a ${kind.replace('_', '-')} address (${address})`, hostname);
    }
  }
  const first = addresses[0]!;
  return { url, hostname, address: first.address, family: first.family };
}

async function resolveAll(resolver: HostResolver, hostname: string): Promise<ResolvedAddress[]> {
  try {
    return await resolver(hostname);
  } catch (error) {
    throw new TollgateError('SANDBOX_EGRESS_DENIED', `${hostname} could not be resolved`, { cause: error, details: { host: hostname } });
  }
}

function denied(reason: string, host: string): TollgateError {
  return new TollgateError('SANDBOX_EGRESS_DENIED', `egress refused: ${reason}`, { details: { host } });
}
