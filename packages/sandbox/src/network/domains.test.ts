import { describe, expect, it } from 'vitest';
import { resolveSandboxConfig } from '../policy/templates.js';
import { domainEntryProblem, domainsRefusal, hostMatchesDomains, normalizeDomainEntry } from './domains.js';

describe('allowed_domains entries with ports', () => {
  it.each([
    ['api.example.com', 'https://api.example.com/', undefined],
    ['api.example.com', 'https://api.example.com:443/', undefined],
    ['api.example.com', 'https://api.example.com:22/', /api\.example\.com:22 is not in allowed_domains/],
    ['api.example.com', 'https://api.example.com:6379/', /port 6379/],
    ['api.example.com', 'http://api.example.com/', undefined],
    ['api.example.com', 'http://api.example.com:443/', /port 443/],
    ['api.example.com:8443', 'https://api.example.com:8443/', undefined],
    ['api.example.com:8443', 'https://api.example.com/', /port 443/],
    ['api.example.com:8443', 'https://api.example.com:8444/', /port 8444/],
    ['*.example.com', 'https://eu.example.com/', undefined],
    ['*.example.com', 'https://eu.example.com:8443/', /port 8443/],
    ['*.example.com:8443', 'https://eu.example.com:8443/', undefined],
    ['*.example.com:8443', 'https://eu.example.com/', /port 443/],
    ['[::1]:8080', 'http://[::1]:8080/', undefined],
    ['[::1]:8080', 'http://[::1]:8081/', /port 8081/],
    ['::1', 'https://[::1]/', undefined],
    ['api.example.com', 'https://other.example.com/', /other\.example\.com is not in allowed_domains/],
  ])('entry %s, URL %s', (entry, url, refusal) => {
    const reason = domainsRefusal(new URL(url), [entry]);
    if (refusal === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(refusal);
  });

  it('allows any port when allowed_domains is empty (any public host, the documented open grant)', () => {
    expect(domainsRefusal(new URL('https://api.example.com:8443/'), [])).toBeUndefined();
  });

  it('lets one host be listed with several ports', () => {
    const domains = ['api.example.com', 'api.example.com:8443'];
    expect(domainsRefusal(new URL('https://api.example.com/'), domains)).toBeUndefined();
    expect(domainsRefusal(new URL('https://api.example.com:8443/'), domains)).toBeUndefined();
    expect(domainsRefusal(new URL('https://api.example.com:9000/'), domains)).toMatch(/port 9000/);
  });

  it('matches host names with or without a port in the entry (the broker\'s host-only check)', () => {
    expect(hostMatchesDomains('api.example.com', ['api.example.com:8443'])).toBe(true);
    expect(hostMatchesDomains('eu.example.com', ['*.example.com:8443'])).toBe(true);
    expect(hostMatchesDomains('example.com', ['*.example.com:8443'])).toBe(false);
  });

  it.each([
    ['api.example.com:0', /port/],
    ['api.example.com:65536', /port/],
    ['api.example.com:', /port/],
    ['api.example.com:https', /port/],
    ['api.example.com:+443', /port/],
    ['api.example.com:44 3', /port/],
    ['[::1]:', /port/],
    ['[::1', /bracket/],
    [':443', /host/],
    ['https://api.example.com', /port|scheme/],
    ['https://api.example.com:443/v1', /scheme/],
    ['a.xn--a', /host/], // an IDNA label that is not valid punycode (found by the property test)
  ])('reports %s as invalid', (entry, problem) => {
    expect(domainEntryProblem(entry)).toMatch(problem);
    expect(hostMatchesDomains(entry.replace(/:.*$/, ''), [entry])).toBe(false);
  });

  it('an invalid entry allows nothing (a caller that skipped validation fails closed)', () => {
    expect(domainsRefusal(new URL('https://api.example.com/'), ['api.example.com:0'])).toMatch(/not in allowed_domains/);
    expect(hostMatchesDomains('api.example.com', ['api.example.com:https'])).toBe(false);
  });

  it.each([
    ['API.Example.com.', 'api.example.com'],
    [' API.Example.com.:08443 ', 'api.example.com:8443'],
    ['*.Example.com:443', '*.example.com:443'],
    ['[::1]:8080', '[::1]:8080'],
    ['::1', '::1'],
  ])('normalises %s to %s', (entry, normalised) => {
    expect(normalizeDomainEntry(entry)).toBe(normalised);
  });

  it('resolveSandboxConfig refuses an entry with a bad port, naming the entry', () => {
    expect(() => resolveSandboxConfig({ allowed_domains: ['api.example.com:99999'] })).toThrow(expect.objectContaining({
      code: 'VALIDATION_FAILED', details: { field: 'allowed_domains' }, message: expect.stringMatching(/api\.example\.com:99999.*port/),
    }));
    expect(resolveSandboxConfig({ allowed_domains: ['API.example.com:8443'] }).allowed_domains).toEqual(['api.example.com:8443']);
  });
});

// Validation accepted entries that matching could never use: a Unicode domain (URLs carry it as punycode), an IPv6
// address not in its shortest form, an IPv4 address in short form, and host names with a path or user info. The entry
// was stored, the agent's calls to that host were refused, and nothing said why. Entries are now parsed as URL hosts.
describe('allowed_domains entries are canonicalised as URL hosts', () => {
  it.each([
    ['bücher.de', 'https://bücher.de/', 'xn--bcher-kva.de'],
    ['*.bücher.de', 'https://api.xn--bcher-kva.de/', '*.xn--bcher-kva.de'],
    ['BÜCHER.de:8443', 'https://xn--bcher-kva.de:8443/', 'xn--bcher-kva.de:8443'],
    ['[2001:DB8:0:0::1]', 'https://[2001:db8::1]/', '2001:db8::1'],
    ['[2001:db8:0:0::1]:8443', 'https://[2001:db8::1]:8443/', '[2001:db8::1]:8443'],
    ['ＡＰＩ.example.com', 'https://api.example.com/', 'api.example.com'],
  ])('entry %s allows %s (stored as %s)', (entry, url, stored) => {
    expect(domainEntryProblem(entry)).toBeUndefined();
    expect(normalizeDomainEntry(entry)).toBe(stored);
    expect(domainsRefusal(new URL(url), [entry])).toBeUndefined();
    expect(domainsRefusal(new URL(url), [normalizeDomainEntry(entry)])).toBeUndefined();
  });

  it.each([
    ['api.example.com/v1', /host name/],
    ['user@api.example.com', /host name/],
    ['api.example.com?x', /host name/],
    ['api.example.com#x', /host name/],
    ['api.exa mple.com', /host name/],
    ['api.%65xample.com', /host name/],
    ['api.*.example.com', /wildcard/],
    ['*example.com', /wildcard/],
    ['*', /wildcard/],
    ['*.0.0.1', /wildcard|host name/],
    ['*.com', /top-level domain/],
    ['*.COM.:443', /top-level domain/],
  ])('refuses %s', (entry, problem) => {
    expect(domainEntryProblem(entry)).toMatch(problem);
    expect(() => resolveSandboxConfig({ allowed_domains: [entry] })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  // A wildcard of numbers could only ever match IP literals: `*.0.0.1` matched https://127.0.0.1/.
  it('a wildcard never matches an IP address literal', () => {
    expect(domainsRefusal(new URL('https://127.0.0.1/'), ['*.0.0.1'])).toMatch(/not in allowed_domains/);
  });

  it('keeps the spellings the URL parser treats as the same host matching (checked property)', () => {
    const entries = ['api.example.com'];
    for (const url of ['https://API.example.com/', 'https://api.example.com./', 'https://api.example.com:0443/', 'https://api.example.com:/',
      'https://%61pi.example.com/', 'https://ａｐｉ.example.com/']) {
      expect(domainsRefusal(new URL(url), entries)).toBeUndefined();
    }
    // User info never moves the checked host: the URL's host is the part after the @.
    expect(domainsRefusal(new URL('https://api.example.com:443@evil.example:22/'), entries)).toMatch(/evil\.example is not in allowed_domains/);
    expect(domainsRefusal(new URL('https://api.example.com.:22/'), entries)).toMatch(/port 22/);
  });
});
