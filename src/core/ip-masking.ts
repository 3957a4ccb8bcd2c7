import { createHmac, randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/** How client addresses are shown: as they are, cut to their network, or as a keyed hash. */
export type IpMaskingMode = 'none' | 'truncate' | 'hash';

export const IP_MASKING_MODES: readonly IpMaskingMode[] = ['none', 'truncate', 'hash'];

/** Turns a socket address into what the API, events and logs may show. */
export type IpMasker = (address: string | undefined) => string;

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** `::ffff:1.2.3.4` (how a dual-stack socket reports IPv4 clients) becomes `1.2.3.4`. */
export function normalizeAddress(address: string): string {
  const mapped = MAPPED_V4.exec(address);
  return mapped?.[1] ?? address;
}

/** Expands an IPv6 address (`::` compression, an IPv4 tail) to its eight hextets. */
function ipv6Hextets(address: string): number[] {
  const zoneless = address.split('%', 1)[0] ?? address;
  const [head = '', tail] = zoneless.split('::', 2);
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const groups: number[] = [];
    for (const group of part.split(':')) {
      if (group.includes('.')) {
        const octets = group.split('.').map(Number);
        groups.push(((octets[0] ?? 0) << 8) | (octets[1] ?? 0), ((octets[2] ?? 0) << 8) | (octets[3] ?? 0));
      } else {
        groups.push(parseInt(group, 16));
      }
    }
    return groups;
  };
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const zeros = new Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0);
  return [...left, ...zeros, ...right];
}

/** IPv4 to its /24 (`203.0.113.0`), IPv6 to its /48 (`2001:db8:85a3::`); anything else to `unknown`. */
export function truncateAddress(address: string): string {
  const normalized = normalizeAddress(address);
  if (isIPv4(normalized)) {
    const octets = normalized.split('.');
    return `${octets[0]}.${octets[1]}.${octets[2]}.0`;
  }
  if (isIPv6(normalized)) {
    // The /48 keeps three hextets; the zero tail is the longest zero run, written `::` (RFC 5952).
    const network = ipv6Hextets(normalized).slice(0, 3);
    while (network.length > 0 && network[network.length - 1] === 0) network.pop();
    return `${network.map((h) => h.toString(16)).join(':')}::`;
  }
  return 'unknown';
}

/**
 * Builds the masker for a mode. `hash` uses an HMAC with a key that lives as long as the
 * process (or the one given), so one client keeps one token but the token cannot be
 * reversed by trying every address.
 */
export function createIpMasker(mode: IpMaskingMode, hashKey: Buffer = randomBytes(32)): IpMasker {
  switch (mode) {
    case 'none':
      return (address) => (address ? normalizeAddress(address) : 'unknown');
    case 'truncate':
      return (address) => (address ? truncateAddress(address) : 'unknown');
    case 'hash':
      return (address) =>
        address
          ? `h:${createHmac('sha256', hashKey).update(normalizeAddress(address)).digest('hex').slice(0, 16)}`
          : 'unknown';
  }
}
