import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyAddress } from './address-policy.js';
import { hostMatchesDomains } from './domains.js';

// Reference: the refused IPv4 ranges as plain integer intervals, written independently of the BlockList table.
const REFUSED_V4: Array<[string, number]> = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];
const toInt = (ip: string): number => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const refusedByReference = (ip: string): boolean =>
  REFUSED_V4.some(([network, prefix]) => Math.floor(toInt(ip) / 2 ** (32 - prefix)) === Math.floor(toInt(network) / 2 ** (32 - prefix)));

describe('classifyAddress (property)', () => {
  it('refuses exactly the reference IPv4 ranges', () => {
    fc.assert(fc.property(fc.ipV4(), (ip) => {
      expect(classifyAddress(ip) !== 'public').toBe(refusedByReference(ip));
    }), { numRuns: 2000 });
  });

  it('refuses every IPv4-mapped IPv6 address, public or not', () => {
    fc.assert(fc.property(fc.ipV4(), (ip) => {
      expect(classifyAddress(`::ffff:${ip}`)).toBe('ipv4_mapped');
    }), { numRuns: 500 });
  });

  it('refuses every unique-local and link-local IPv6 address', () => {
    const hex = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
    fc.assert(fc.property(fc.integer({ min: 0xfc00, max: 0xfdff }), hex, hex, (first, a, b) => {
      expect(['unique_local', 'metadata']).toContain(classifyAddress(`${first.toString(16)}:${a}::${b}`));
    }), { numRuns: 500 });
    fc.assert(fc.property(fc.integer({ min: 0xfe80, max: 0xfebf }), hex, (first, a) => {
      expect(classifyAddress(`${first.toString(16)}::${a}`)).toBe('link_local');
    }), { numRuns: 300 });
  });
});

describe('hostMatchesDomains (property)', () => {
  // No label starts with `xn--`: that prefix marks a punycode (IDNA) label, which must decode; one that does not
  // (`xn--a`) is not a host name, so such an entry is refused (domainEntryProblem) and matches nothing. fast-check
  // found `a.xn--a`; valid IDNA labels are covered in domains.test.ts.
  const notAce = (text: string) => !text.startsWith('xn--');
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/).filter(notAce);
  // The last label is never all digits: a URL parser reads such a host as an IPv4 address, and an entry like that is
  // refused (domainEntryProblem), so it would match nothing.
  const topLabel = fc.stringMatching(/^[a-z]([a-z0-9-]{0,10}[a-z0-9])?$/).filter(notAce);
  const domain = fc.tuple(fc.array(label, { minLength: 1, maxLength: 3 }), topLabel).map(([labels, top]) => [...labels, top].join('.'));

  it('never lets a look-alike host through an exact entry', () => {
    fc.assert(fc.property(domain, label, (allowed, extra) => {
      expect(hostMatchesDomains(`${allowed}.${extra}`, [allowed])).toBe(false);
      expect(hostMatchesDomains(`${extra}${allowed}`, [allowed])).toBe(false);
      expect(hostMatchesDomains(`${extra}.${allowed}`, [allowed])).toBe(false);
      expect(hostMatchesDomains(allowed.toUpperCase(), [allowed])).toBe(true);
    }), { numRuns: 500 });
  });

  it('lets a wildcard match subdomains only, never the apex or a suffix look-alike', () => {
    fc.assert(fc.property(domain, label, (allowed, sub) => {
      expect(hostMatchesDomains(`${sub}.${allowed}`, [`*.${allowed}`])).toBe(true);
      expect(hostMatchesDomains(allowed, [`*.${allowed}`])).toBe(false);
      expect(hostMatchesDomains(`${sub}${allowed}`, [`*.${allowed}`])).toBe(false);
    }), { numRuns: 500 });
  });
});
