/**
 * True when `hostname` is allowed by an `allowed_domains` list: empty means any host; `example.com` matches exactly;
 * `*.example.com` matches subdomains only. Comparison is case-insensitive and ignores a trailing dot.
 *
 * @example
 * hostMatchesDomains('api.example.com', ['*.example.com']); // true
 * hostMatchesDomains('example.com.evil.io', ['example.com']); // false
 */
export function hostMatchesDomains(hostname: string, allowedDomains: readonly string[]): boolean {
  if (allowedDomains.length === 0) return true;
  const host = normalizeHost(hostname);
  return allowedDomains.some((entry) => {
    const domain = normalizeHost(entry);
    if (domain.startsWith('*.')) return host.endsWith(domain.slice(1)) && host.length > domain.length - 1;
    return host === domain;
  });
}

/** Lower-cases a host name, strips IPv6 brackets and one trailing dot. */
export function normalizeHost(hostname: string): string {
  const lower = hostname.trim().toLowerCase();
  const unbracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  return unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed;
}
