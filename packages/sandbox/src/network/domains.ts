import { isIP } from 'node:net';

/**
 * One `allowed_domains` entry: `host`, `*.host` (subdomains only), either with `:port`; an IPv6 literal takes a port
 * in brackets only (`[::1]:8080`; `::1` alone has no port).
 */
export interface DomainEntry {
  /** Lower-case, without brackets or a trailing dot; a wildcard keeps its `*.` prefix. */
  host: string;
  /** The one port the entry allows; `undefined` = the scheme's default port only (443, or 80 for plain http). */
  port: number | undefined;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'https:': 443, 'http:': 80 };

/**
 * Why `entry` is not a valid `allowed_domains` entry, or `undefined` when it is.
 *
 * @example
 * domainEntryProblem('api.example.com:8443'); // undefined
 * domainEntryProblem('api.example.com:99999'); // 'port must be a number from 1 to 65535, got "99999"'
 */
export function domainEntryProblem(entry: string): string | undefined {
  const parsed = splitEntry(entry);
  if (typeof parsed === 'string') return parsed;
  if (parsed.host === '') return 'needs a host name before the port';
  if (parsed.port !== undefined && !(/^[0-9]{1,5}$/.test(parsed.port) && Number(parsed.port) >= 1 && Number(parsed.port) <= 65_535)) {
    return `port must be a number from 1 to 65535, got ${JSON.stringify(parsed.port)}`;
  }
  const host = canonicalHost(parsed.host);
  return typeof host === 'string' ? undefined : host.problem;
}

/**
 * Parses an entry; `undefined` for an invalid one, which then allows nothing (a caller that skipped validation fails
 * closed).
 *
 * @example
 * parseDomainEntry('*.Example.com:8443'); // { host: '*.example.com', port: 8443 }
 */
export function parseDomainEntry(entry: string): DomainEntry | undefined {
  if (domainEntryProblem(entry) !== undefined) return undefined;
  const parsed = splitEntry(entry) as { host: string; port: string | undefined };
  return { host: canonicalHost(parsed.host) as string, port: parsed.port === undefined ? undefined : Number(parsed.port) };
}

/**
 * The stored form of a valid entry: the host as URLs carry it (lower case, punycode, IP addresses in their canonical
 * form), no trailing dot, a port without leading zeros, IPv6 in brackets when a port follows.
 *
 * @example
 * normalizeDomainEntry('API.Example.com.:08443'); // 'api.example.com:8443'
 */
export function normalizeDomainEntry(entry: string): string {
  const parsed = parseDomainEntry(entry);
  if (parsed === undefined) return entry.trim().toLowerCase();
  if (parsed.port === undefined) return parsed.host;
  return `${isIP(parsed.host) === 6 ? `[${parsed.host}]` : parsed.host}:${parsed.port}`;
}

/**
 * True when `hostname` is named by an `allowed_domains` entry, whatever the entry's port: empty means any host;
 * `example.com` matches exactly; `*.example.com` matches subdomains only. Comparison is case-insensitive and ignores
 * a trailing dot. The port is checked by {@link domainsRefusal}.
 *
 * @example
 * hostMatchesDomains('api.example.com', ['*.example.com']); // true
 * hostMatchesDomains('example.com.evil.io', ['example.com']); // false
 */
export function hostMatchesDomains(hostname: string, allowedDomains: readonly string[]): boolean {
  if (allowedDomains.length === 0) return true;
  const host = normalizeHost(hostname);
  return allowedDomains.some((entry) => {
    const parsed = parseDomainEntry(entry);
    return parsed !== undefined && entryNamesHost(parsed.host, host);
  });
}

/**
 * Why `allowed_domains` refuses `url` (host and port), or `undefined` when an entry allows it. An entry without a port
 * allows the scheme's default port only; `host:port` allows exactly that port. An empty list allows any host and port.
 *
 * @example
 * domainsRefusal(new URL('https://api.example.com:22/'), ['api.example.com']);
 * // 'api.example.com:22 is not in allowed_domains (port 22; an entry without a port allows port 443 only)'
 */
export function domainsRefusal(url: URL, allowedDomains: readonly string[]): string | undefined {
  if (allowedDomains.length === 0) return undefined;
  const host = normalizeHost(url.hostname);
  const defaultPort = DEFAULT_PORTS[url.protocol];
  const port = url.port === '' ? defaultPort : Number(url.port);
  const named = allowedDomains.map(parseDomainEntry).filter((e): e is DomainEntry => e !== undefined && entryNamesHost(e.host, host));
  if (named.length === 0) return `${host} is not in allowed_domains`;
  if (named.some((entry) => (entry.port ?? defaultPort) === port)) return undefined;
  return `${host}:${port} is not in allowed_domains (port ${port}; an entry without a port allows port ${defaultPort} only, name other ports as ${host}:${port})`;
}

/** Lower-cases a host name, strips IPv6 brackets and one trailing dot. */
export function normalizeHost(hostname: string): string {
  const lower = hostname.trim().toLowerCase();
  const unbracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  return unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed;
}

function entryNamesHost(domain: string, host: string): boolean {
  if (domain.startsWith('*.')) return host.endsWith(domain.slice(1)) && host.length > domain.length - 1;
  return host === domain;
}

/**
 * The host of an entry as the WHATWG URL parser writes it in `URL.hostname` (what {@link domainsRefusal} compares
 * with): punycode for Unicode names, the shortest IPv6 form, dotted-quad IPv4. Without it an entry validation
 * accepted (`bücher.de`, `[2001:DB8:0:0::1]`, `127.1`) could never match. Anything the parser would move elsewhere in
 * a URL (path, user info, query) or decode (`%`) is refused, and `*` only as the whole first label of a domain name.
 */
function canonicalHost(host: string): string | { problem: string } {
  const wildcard = host.startsWith('*.');
  const name = wildcard ? host.slice(2) : host;
  if (name.includes('*')) return { problem: 'has a misplaced wildcard: * only as the whole first label, before a domain (*.example.com)' };
  if (/[\s/\\?#@%]/.test(name)) return { problem: 'is not a valid host name (no scheme, path, user info or %-escapes)' };
  const ipv6 = isIP(name) === 6;
  let hostname: string;
  try { hostname = new URL(`http://${ipv6 ? `[${name}]` : name}/`).hostname; } catch { return { problem: 'is not a valid host name' }; }
  const canonical = normalizeHost(hostname);
  if (!wildcard) return canonical;
  // A wildcard names subdomains of a domain name; after an IP address it could only ever match other IP literals.
  if (isIP(canonical) !== 0) return { problem: 'may not put a wildcard before an IP address' };
  // `*.com` would allow every .com site: a wildcard needs a registrable-looking domain of at least two labels.
  // (Public suffixes of two labels such as co.uk are not known here; name the domain under them.)
  if (!canonical.includes('.')) return { problem: 'may not put a wildcard before a top-level domain (*.com allows every .com site); name a domain: *.example.com' };
  return `*.${canonical}`;
}

/** Host and raw port text of an entry, or why it cannot be split. */
function splitEntry(entry: string): { host: string; port: string | undefined } | string {
  const text = entry.trim().toLowerCase();
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return 'has an opening [ without a closing bracket';
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return 'needs a :port after the bracketed IPv6 address';
    return { host: text.slice(1, close), port: rest === '' ? undefined : rest.slice(1) };
  }
  const colons = text.split(':').length - 1;
  if (colons > 1) {
    // A bare IPv6 literal (no port: `[…]:port` names one); anything else with several colons is likely a URL.
    return isIP(text) === 6 ? { host: text, port: undefined } : 'is neither host[:port] nor an IPv6 address (no scheme or path)';
  }
  const [host = '', port] = text.split(':');
  return { host: normalizeHost(host), port };
}
