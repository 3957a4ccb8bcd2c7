import { isIP } from 'node:net';
import { normalizeAddress } from './ip-masking.js';

interface Range {
  version: 4 | 6;
  base: bigint;
  bits: number;
}

function toBigInt(address: string): { version: 4 | 6; value: bigint } | undefined {
  const normalized = normalizeAddress(address.split('%', 1)[0] ?? address);
  const version = isIP(normalized);
  if (version === 4) {
    return { version: 4, value: normalized.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n) };
  }
  if (version === 6) {
    const [head = '', tail] = normalized.split('::', 2);
    const groups = (part: string): number[] => {
      if (part === '') return [];
      return part.split(':').flatMap((group) => {
        if (!group.includes('.')) return [parseInt(group, 16)];
        const o = group.split('.').map(Number);
        return [((o[0] ?? 0) << 8) | (o[1] ?? 0), ((o[2] ?? 0) << 8) | (o[3] ?? 0)];
      });
    };
    const left = groups(head);
    const right = tail === undefined ? [] : groups(tail);
    const all = [...left, ...new Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0), ...right];
    return { version: 6, value: all.reduce((acc, group) => (acc << 16n) | BigInt(group), 0n) };
  }
  return undefined;
}

/** Parses one address or CIDR (`10.0.0.0/8`, `::1`, `fd00::/8`); undefined when it is neither. */
export function parseRange(text: string): Range | undefined {
  const parts = text.trim().split('/');
  if (parts.length > 2) return undefined;
  const [address = '', prefix] = parts;
  const parsed = toBigInt(address);
  if (!parsed) return undefined;
  const width = parsed.version === 4 ? 32 : 128;
  const bits = prefix === undefined ? width : Number(prefix);
  if (!Number.isInteger(bits) || bits < 0 || bits > width || (prefix !== undefined && !/^\d+$/.test(prefix))) return undefined;
  const shift = BigInt(width - bits);
  return { version: parsed.version, base: (parsed.value >> shift) << shift, bits };
}

/**
 * Which peers may tell us the client's address through X-Forwarded-For or X-Real-IP.
 * Only a request whose socket peer is trusted has those headers read; the client is the
 * rightmost X-Forwarded-For hop that is not itself a trusted proxy.
 */
export class TrustedProxies {
  private readonly ranges: Range[];

  /** `entries`: addresses and CIDRs. Throws RangeError naming the first bad entry. */
  constructor(entries: readonly string[]) {
    this.ranges = entries.map((entry) => {
      const range = parseRange(entry);
      if (!range) throw new RangeError(`"${entry}" is not an IP address or CIDR`);
      return range;
    });
  }

  get size(): number {
    return this.ranges.length;
  }

  trusts(address: string): boolean {
    const parsed = toBigInt(address.trim());
    if (!parsed) return false;
    return this.ranges.some((range) => {
      if (range.version !== parsed.version) return false;
      const shift = BigInt((range.version === 4 ? 32 : 128) - range.bits);
      return (parsed.value >> shift) << shift === range.base;
    });
  }

  /** The client's address for a request from `peer` with these headers. */
  clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, realIp: string | string[] | undefined): string | undefined {
    if (peer === undefined || this.ranges.length === 0 || !this.trusts(peer)) return peer;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? ''))
      .split(',')
      .map((hop) => hop.trim())
      .filter((hop) => hop !== '');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] ?? '';
      if (isIP(normalizeAddress(hop)) === 0) return peer; // a forged or garbled header: believe the socket
      if (!this.trusts(hop)) return hop;
    }
    if (hops.length > 0) return hops[0];
    const real = (Array.isArray(realIp) ? realIp[0] : realIp)?.trim();
    return real && isIP(normalizeAddress(real)) !== 0 ? real : peer;
  }
}
