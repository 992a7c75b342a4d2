import { BlockList, isIP } from 'node:net';

/** Why an address is not a public unicast address (or `public`). */
export type AddressClass =
  | 'public' | 'loopback' | 'private' | 'link_local' | 'cgnat' | 'unique_local' | 'ipv4_mapped' | 'metadata'
  | 'unspecified' | 'multicast' | 'reserved' | 'translated' | 'documentation';

/** Cloud instance-metadata endpoints (AWS/GCP/Azure/OpenStack IPv4, AWS IPv6, AWS ECS, Alibaba). */
export const METADATA_ADDRESSES: readonly string[] = ['169.254.169.254', 'fd00:ec2::254', '169.254.170.2', '100.100.100.200'];
/** Host names that reach instance metadata without DNS leaving the cloud. */
export const METADATA_HOSTNAMES: readonly string[] = [
  'metadata.google.internal', 'metadata', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal',
];

const RANGES: ReadonlyArray<readonly [AddressClass, 'ipv4' | 'ipv6', string, number]> = [
  ['unspecified', 'ipv4', '0.0.0.0', 8],
  ['private', 'ipv4', '10.0.0.0', 8],
  ['cgnat', 'ipv4', '100.64.0.0', 10],
  ['loopback', 'ipv4', '127.0.0.0', 8],
  ['link_local', 'ipv4', '169.254.0.0', 16],
  ['private', 'ipv4', '172.16.0.0', 12],
  ['reserved', 'ipv4', '192.0.0.0', 24],
  ['documentation', 'ipv4', '192.0.2.0', 24],
  ['private', 'ipv4', '192.168.0.0', 16],
  ['reserved', 'ipv4', '198.18.0.0', 15],
  ['documentation', 'ipv4', '198.51.100.0', 24],
  ['documentation', 'ipv4', '203.0.113.0', 24],
  ['multicast', 'ipv4', '224.0.0.0', 4],
  ['reserved', 'ipv4', '240.0.0.0', 4],
  ['unspecified', 'ipv6', '::', 128],
  ['loopback', 'ipv6', '::1', 128],
  ['ipv4_mapped', 'ipv6', '::ffff:0:0', 96],
  ['reserved', 'ipv6', '::', 96],
  ['translated', 'ipv6', '64:ff9b::', 96],
  ['translated', 'ipv6', '64:ff9b:1::', 48],
  ['reserved', 'ipv6', '100::', 64],
  ['translated', 'ipv6', '2001::', 32],
  ['documentation', 'ipv6', '2001:db8::', 32],
  ['translated', 'ipv6', '2002::', 16],
  ['unique_local', 'ipv6', 'fc00::', 7],
  ['link_local', 'ipv6', 'fe80::', 10],
  ['reserved', 'ipv6', 'fec0::', 10],
  ['multicast', 'ipv6', 'ff00::', 8],
];

/**
 * Classifies an IP literal. Metadata addresses are reported as `metadata` even though they sit in link-local or
 * unique-local ranges. Anything that is not a valid IP is `reserved` (refused).
 *
 * @example
 * classifyAddress('169.254.169.254'); // 'metadata'
 * classifyAddress('::ffff:127.0.0.1'); // 'ipv4_mapped'
 */
export function classifyAddress(address: string): AddressClass {
  const family = isIP(address);
  if (family === 0) return 'reserved';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (METADATA_ADDRESSES.some((m) => sameAddress(m, address))) return 'metadata';
  for (const [kind, rangeType, network, prefix] of RANGES) {
    if (rangeType !== type) continue;
    const list = new BlockList();
    list.addSubnet(network, prefix, rangeType);
    if (list.check(address, type)) return kind;
  }
  return 'public';
}

/**
 * A set of CIDR ranges exempt from the refusal (e.g. `['127.0.0.1/32']` for a loopback test server, or an internal
 * API the operator deliberately exposes).
 *
 * @example
 * const allow = createAddressAllowList(['10.1.2.0/24']); allow('10.1.2.7'); // true
 */
export function createAddressAllowList(cidrs: readonly string[]): (address: string) => boolean {
  // One list per family: Node's BlockList would otherwise match an IPv4-mapped IPv6 address against IPv4 rules, and
  // an allowed 127.0.0.1 must not quietly allow ::ffff:127.0.0.1.
  const lists = { 4: new BlockList(), 6: new BlockList() };
  for (const cidr of cidrs) {
    const [network = '', prefixText] = cidr.split('/');
    const family = isIP(network);
    if (family === 0) throw new Error(`invalid CIDR ${cidr}`);
    const prefix = prefixText === undefined ? (family === 4 ? 32 : 128) : Number(prefixText);
    lists[family as 4 | 6].addSubnet(network, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return (address) => {
    const family = isIP(address);
    return family !== 0 && lists[family as 4 | 6].check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}

function sameAddress(a: string, b: string): boolean {
  if (isIP(a) !== isIP(b)) return false;
  const list = new BlockList();
  list.addAddress(a, isIP(a) === 4 ? 'ipv4' : 'ipv6');
  return list.check(b, isIP(b) === 4 ? 'ipv4' : 'ipv6');
}
