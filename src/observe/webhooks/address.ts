// Where a webhook may be sent: not to loopback, private, link-local or otherwise internal addresses (SSRF), unless the operator allows it.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const internal = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24],
  ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) internal.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) internal.addSubnet(net, bits, 'ipv6');

/** True for an address no webhook should reach by default (an IPv4-mapped IPv6 address is judged as its IPv4). */
export function isInternalAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return internal.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return internal.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** A problem with a URL host that is itself an address or "localhost", known without DNS; undefined otherwise. */
export function literalAddressProblem(hostname: string): string | undefined {
  // "localhost." is the same name as "localhost" (a fully qualified name's root dot), and resolves the same.
  const host = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return `${hostname} is a loopback name`;
  if (isIP(host) !== 0 && isInternalAddress(host)) return `${hostname} is a loopback, private or internal address`;
  return undefined;
}

/** Resolves `hostname` and names an internal address among its answers; undefined when every address is public. */
export async function resolvedAddressProblem(hostname: string): Promise<string | undefined> {
  const host = hostname.replace(/^\[|\]$/g, '');
  const literal = literalAddressProblem(host);
  if (literal || isIP(host) !== 0) return literal;
  const answers = await lookup(host, { all: true, verbatim: true });
  const bad = answers.find((a) => isInternalAddress(a.address));
  return bad ? `${hostname} resolves to ${bad.address}, a loopback, private or internal address` : undefined;
}
