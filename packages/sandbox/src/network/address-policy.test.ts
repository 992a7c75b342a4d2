import { describe, expect, it } from 'vitest';
import { classifyAddress, createAddressAllowList } from './address-policy.js';

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'], ['::1', 'loopback'],
    ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'],
    ['169.254.169.254', 'metadata'], ['fd00:ec2::254', 'metadata'], ['169.254.170.2', 'metadata'], ['100.100.100.200', 'metadata'],
    ['169.254.1.1', 'link_local'], ['fe80::1', 'link_local'],
    ['100.64.0.1', 'cgnat'], ['100.127.255.255', 'cgnat'],
    ['fc00::1', 'unique_local'], ['fd12:3456::1', 'unique_local'],
    ['::ffff:127.0.0.1', 'ipv4_mapped'], ['::ffff:8.8.8.8', 'ipv4_mapped'], ['::ffff:7f00:1', 'ipv4_mapped'],
    ['0.0.0.0', 'unspecified'], ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'], ['ff02::1', 'multicast'],
    ['64:ff9b::7f00:1', 'translated'], ['2002:7f00:1::', 'translated'],
    ['192.0.2.1', 'documentation'], ['2001:db8::1', 'documentation'],
    ['240.0.0.1', 'reserved'], ['255.255.255.255', 'reserved'], ['not-an-ip', 'reserved'],
    ['8.8.8.8', 'public'], ['1.1.1.1', 'public'], ['2606:4700:4700::1111', 'public'], ['172.32.0.1', 'public'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });
});

describe('createAddressAllowList', () => {
  it('matches addresses inside the given CIDRs only', () => {
    const allowed = createAddressAllowList(['127.0.0.1/32', '10.1.0.0/16', '::1']);
    expect([allowed('127.0.0.1'), allowed('127.0.0.2'), allowed('10.1.200.3'), allowed('10.2.0.1'), allowed('::1')])
      .toEqual([true, false, true, false, true]);
  });

  it('does not extend an IPv4 allowance to its IPv4-mapped IPv6 form', () => {
    const allowed = createAddressAllowList(['127.0.0.1/32']);
    expect([allowed('127.0.0.1'), allowed('::ffff:127.0.0.1'), allowed('::ffff:7f00:1')]).toEqual([true, false, false]);
  });

  it('rejects a malformed CIDR', () => {
    expect(() => createAddressAllowList(['localhost/8'])).toThrow(/invalid CIDR/);
  });
});
