import { isIPv6 } from 'node:net';

/** An IPv6 address as its eight 16-bit groups (RFC 4291 §2.2: `::` and an embedded IPv4 tail expanded). */
function ipv6Groups(ip: string): number[] {
  const toGroups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [parseInt(g, 16)];
          const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = '', tail] = ip.split('::');
  const left = toGroups(head);
  if (tail === undefined) return left;
  const right = toGroups(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * The client a limit counts against: an IPv4 address as is; an IPv4-mapped IPv6 address
 * (`::ffff:a.b.c.d` in any spelling, RFC 4291 §2.5.5.2) as its IPv4 address; any other IPv6 address
 * as its /64 — one host usually holds a whole /64 (RFC 4291 §2.5.1, SLAAC), so counting single
 * addresses would give it 2^64 fresh budgets. Anything else (a test's name) is used as is.
 */
export function clientNetwork(address: string): string {
  const ip = address.split('%')[0]!;
  if (!isIPv6(ip)) return address;
  const g = ipv6Groups(ip);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return [g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff].join('.');
  }
  return `${g
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
}
