import { describe, expect, it } from 'vitest';
import { createIpMasker, IP_MASKING_MODES, normalizeAddress, truncateAddress } from '../../src/core/ip-masking.js';

const KEY_A = Buffer.from('key-a-0123456789abcdef0123456789');
const KEY_B = Buffer.from('key-b-0123456789abcdef0123456789');
const HASHED = /^h:[0-9a-f]{16}$/;

describe('IP_MASKING_MODES', () => {
  it('lists the three modes', () => {
    expect(IP_MASKING_MODES).toEqual(['none', 'truncate', 'hash']);
  });
});

describe('normalizeAddress', () => {
  it.each([
    ['::ffff:203.0.113.77', '203.0.113.77'],
    ['::FFFF:203.0.113.77', '203.0.113.77'],
    ['203.0.113.77', '203.0.113.77'],
    ['2001:db8::1', '2001:db8::1'],
    ['::1', '::1'],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeAddress(input)).toBe(expected);
  });
});

describe('truncateAddress', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0'],
    ['10.1.2.3', '10.1.2.0'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.0'],
  ])('IPv4 %s -> its /24 %s', (input, expected) => {
    expect(truncateAddress(input)).toBe(expected);
  });

  it.each([
    ['::ffff:203.0.113.77', '203.0.113.0'],
    ['::FFFF:198.51.100.200', '198.51.100.0'],
  ])('IPv4-mapped IPv6 %s -> the IPv4 /24 %s', (input, expected) => {
    expect(truncateAddress(input)).toBe(expected);
  });

  it.each([
    ['2001:db8:85a3::8a2e:370:7334', '2001:db8:85a3::'],
    ['2001:db8:85a3:0:0:8a2e:370:7334', '2001:db8:85a3::'],
    ['2001:0DB8:85A3:0000:0000:8A2E:0370:7334', '2001:db8:85a3::'],
    ['2001:db8:85a3:1234::', '2001:db8:85a3::'],
  ])('IPv6 %s -> its /48 %s', (input, expected) => {
    expect(truncateAddress(input)).toBe(expected);
  });

  // RFC 5952 section 4.2.1: "::" MUST shorten the longest run of zero hextets, so the /48 of
  // ::1 is "::", not "0:0:0::".
  it.each([
    ['::1', '::'],
    ['::', '::'],
    ['fe80::1%eth0', 'fe80::'],
    ['fe80::1', 'fe80::'],
    ['2001:db8::1', '2001:db8::'],
    ['2001:0db8:0000:0042::1', '2001:db8::'],
  ])('IPv6 %s -> its /48 in canonical (RFC 5952) form %s', (input, expected) => {
    expect(truncateAddress(input)).toBe(expected);
  });

  it.each(['', 'garbage', 'localhost', '1.2.3', '256.1.1.1', '203.0.113.77:8080', '::ffff:1.2.3.999', '2001:db8:::1', 'unknown'])(
    'garbage %j -> unknown',
    (input) => {
      expect(truncateAddress(input)).toBe('unknown');
    },
  );
});

describe('createIpMasker("truncate")', () => {
  const mask = createIpMasker('truncate');

  it('truncates IPv4, mapped IPv4 and IPv6', () => {
    expect(mask('203.0.113.77')).toBe('203.0.113.0');
    expect(mask('::ffff:203.0.113.77')).toBe('203.0.113.0');
    expect(mask('2001:db8:85a3::8a2e:370:7334')).toBe('2001:db8:85a3::');
  });

  it('gives unknown for a missing, empty or garbage address', () => {
    expect(mask(undefined)).toBe('unknown');
    expect(mask('')).toBe('unknown');
    expect(mask('garbage')).toBe('unknown');
  });
});

describe('createIpMasker("none")', () => {
  const mask = createIpMasker('none');

  it('shows the address as it is', () => {
    expect(mask('203.0.113.77')).toBe('203.0.113.77');
    expect(mask('2001:db8:85a3::8a2e:370:7334')).toBe('2001:db8:85a3::8a2e:370:7334');
    expect(mask('::1')).toBe('::1');
  });

  it('normalizes the IPv4-mapped form to plain IPv4', () => {
    expect(mask('::ffff:203.0.113.77')).toBe('203.0.113.77');
    expect(mask('::FFFF:203.0.113.77')).toBe('203.0.113.77');
  });

  it('gives unknown for a missing or empty address', () => {
    expect(mask(undefined)).toBe('unknown');
    expect(mask('')).toBe('unknown');
  });
});

describe('createIpMasker("hash")', () => {
  it('has the form h:<16 hex digits>', () => {
    const mask = createIpMasker('hash', KEY_A);
    for (const address of ['203.0.113.77', '::1', '2001:db8:85a3::8a2e:370:7334', '::ffff:203.0.113.77']) {
      expect(mask(address)).toMatch(HASHED);
    }
  });

  it('is stable for the same address and key, across maskers', () => {
    const first = createIpMasker('hash', KEY_A)('203.0.113.77');
    expect(createIpMasker('hash', KEY_A)('203.0.113.77')).toBe(first);
    expect(createIpMasker('hash', Buffer.from(KEY_A))('203.0.113.77')).toBe(first);
    const mask = createIpMasker('hash', KEY_A);
    expect(mask('203.0.113.77')).toBe(mask('203.0.113.77'));
  });

  it('differs between keys', () => {
    expect(createIpMasker('hash', KEY_A)('203.0.113.77')).not.toBe(createIpMasker('hash', KEY_B)('203.0.113.77'));
  });

  it('differs between addresses, even in the same /24', () => {
    const mask = createIpMasker('hash', KEY_A);
    const tokens = new Set(['203.0.113.77', '203.0.113.78', '198.51.100.77', '2001:db8::1', '2001:db8::2'].map(mask));
    expect(tokens.size).toBe(5);
  });

  it('hashes the mapped form like the plain IPv4 address', () => {
    const mask = createIpMasker('hash', KEY_A);
    expect(mask('::ffff:203.0.113.77')).toBe(mask('203.0.113.77'));
  });

  it('never contains the address', () => {
    const mask = createIpMasker('hash', KEY_A);
    for (const address of ['203.0.113.77', '10.0.0.1', '2001:db8:85a3::8a2e:370:7334', '::1']) {
      const token = mask(address);
      expect(token.includes(address)).toBe(false);
    }
  });

  it('uses a fresh random key when none is given', () => {
    const one = createIpMasker('hash');
    const two = createIpMasker('hash');
    expect(one('203.0.113.77')).toMatch(HASHED);
    expect(one('203.0.113.77')).toBe(one('203.0.113.77'));
    expect(one('203.0.113.77')).not.toBe(two('203.0.113.77'));
  });

  it('gives unknown for a missing or empty address', () => {
    const mask = createIpMasker('hash', KEY_A);
    expect(mask(undefined)).toBe('unknown');
    expect(mask('')).toBe('unknown');
  });
});
