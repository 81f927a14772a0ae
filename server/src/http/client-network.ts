import { isIPv6 } from 'node:net';

/**
 * The client part of a throttle key: an IPv4 address as is (also when IPv4-mapped), an IPv6 address
 * as its /64 — one host usually holds a whole /64 (RFC 4291 §2.5.1, SLAAC), so counting single
 * addresses would give it 2^64 fresh budgets. Anything else (a test's name) is used as is.
 */
export function clientNetwork(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  const ip = address.split('%')[0]!;
  if (!isIPv6(ip)) return address;
  const [head = '', tail] = ip.split('::');
  // An embedded IPv4 tail (::1.2.3.4) is two groups; only the first four groups matter here anyway.
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail).flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
