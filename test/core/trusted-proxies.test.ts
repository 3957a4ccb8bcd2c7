import { describe, expect, it } from 'vitest';
import { parseRange, TrustedProxies } from '../../src/core/trusted-proxies.js';

describe('parseRange', () => {
  it.each([
    ['10.0.0.0/8', { version: 4, base: 10n << 24n, bits: 8 }],
    // Host bits of the address are dropped: the range is the network.
    ['10.1.2.3/8', { version: 4, base: 10n << 24n, bits: 8 }],
    ['192.168.1.77/24', { version: 4, base: 0xc0a80100n, bits: 24 }],
    ['0.0.0.0/0', { version: 4, base: 0n, bits: 0 }],
    ['127.0.0.1', { version: 4, base: 0x7f000001n, bits: 32 }],
    ['127.0.0.1/32', { version: 4, base: 0x7f000001n, bits: 32 }],
    [' 10.0.0.1 ', { version: 4, base: 0x0a000001n, bits: 32 }],
  ])('IPv4 %j', (text, range) => {
    expect(parseRange(text)).toEqual(range);
  });

  it.each([
    ['::1', { version: 6, base: 1n, bits: 128 }],
    ['::/0', { version: 6, base: 0n, bits: 0 }],
    ['fd00::/8', { version: 6, base: 0xfdn << 120n, bits: 8 }],
    ['2001:db8::/32', { version: 6, base: 0x20010db8n << 96n, bits: 32 }],
    ['2001:db8:85a3:1:2:3:4:5/48', { version: 6, base: 0x20010db885a3n << 80n, bits: 48 }],
    ['2001:DB8::1', { version: 6, base: (0x20010db8n << 96n) | 1n, bits: 128 }],
    ['64:ff9b::192.0.2.1', { version: 6, base: (0x64ff9bn << 96n) | 0xc0000201n, bits: 128 }],
    ['fe80::1%eth0', { version: 6, base: (0xfe80n << 112n) | 1n, bits: 128 }],
  ])('IPv6 %j', (text, range) => {
    expect(parseRange(text)).toEqual(range);
  });

  it('reads an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
    expect(parseRange('::ffff:127.0.0.1')).toEqual({ version: 4, base: 0x7f000001n, bits: 32 });
  });

  // A second slash must not be dropped silently: `10.0.0.0/8/24` is a typo, not a /8.
  it.each(['10.0.0.0/8/8', '10.0.0.0/8/', '10.0.0.0/8/garbage'])('refuses %j (more than one prefix)', (text) => {
    expect(parseRange(text)).toBeUndefined();
  });

  it.each(['', 'foo', 'localhost', '10.0.0.0/33', '::1/129', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8x', '10.0.0.0/8.5', '256.0.0.1', '1.2.3', '1::2::3'])(
    'refuses %j',
    (text) => {
      expect(parseRange(text)).toBeUndefined();
    },
  );
});

describe('TrustedProxies', () => {
  it('builds from addresses and CIDRs of both families', () => {
    expect(new TrustedProxies(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8']).size).toBe(4);
    expect(new TrustedProxies([]).size).toBe(0);
  });

  it.each([
    ['nope', '"nope" is not an IP address or CIDR'],
    ['10.0.0.0/33', '"10.0.0.0/33" is not an IP address or CIDR'],
    ['', '"" is not an IP address or CIDR'],
  ])('throws a RangeError naming the first bad entry (%j)', (bad, message) => {
    const build = (): TrustedProxies => new TrustedProxies(['10.0.0.0/8', bad, 'also-bad']);
    expect(build).toThrow(RangeError);
    expect(build).toThrow(new RangeError(message));
  });

  describe('trusts', () => {
    const proxies = new TrustedProxies(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8']);

    it.each([
      ['127.0.0.1', true],
      ['127.0.0.2', false],
      ['10.0.0.0', true],
      ['10.255.255.255', true],
      ['11.0.0.0', false],
      ['9.255.255.255', false],
      ['::1', true],
      ['::2', false],
      ['fd12:3456::1', true],
      ['fe00::1', false],
      // IPv4 clients as a dual-stack socket reports them.
      ['::ffff:127.0.0.1', true],
      ['::FFFF:10.9.8.7', true],
      ['::ffff:192.0.2.1', false],
      ['not-an-ip', false],
      ['', false],
    ])('%j -> %s', (address, trusted) => {
      expect(proxies.trusts(address)).toBe(trusted);
    });

    it('never matches across families', () => {
      expect(new TrustedProxies(['0.0.0.0/0']).trusts('::1')).toBe(false);
      expect(new TrustedProxies(['::/0']).trusts('127.0.0.1')).toBe(false);
    });
  });

  describe('clientAddress', () => {
    const loopback = new TrustedProxies(['127.0.0.1']);
    const loopbackAndTen = new TrustedProxies(['127.0.0.1', '10.0.0.0/8']);

    it('with no trusted proxies, is always the peer', () => {
      const none = new TrustedProxies([]);
      expect(none.clientAddress('127.0.0.1', '203.0.113.9', '198.51.100.1')).toBe('127.0.0.1');
      expect(none.clientAddress(undefined, '203.0.113.9', undefined)).toBeUndefined();
    });

    it('ignores the headers of an untrusted peer', () => {
      expect(loopback.clientAddress('192.0.2.50', '203.0.113.9', undefined)).toBe('192.0.2.50');
      expect(loopback.clientAddress('192.0.2.50', undefined, '203.0.113.9')).toBe('192.0.2.50');
      expect(loopback.clientAddress('192.0.2.50', ['203.0.113.9'], ['198.51.100.1'])).toBe('192.0.2.50');
    });

    it('is undefined when the socket has no peer address', () => {
      expect(loopback.clientAddress(undefined, '203.0.113.9', '198.51.100.1')).toBeUndefined();
    });

    it('takes the rightmost X-Forwarded-For hop that is not a trusted proxy', () => {
      expect(loopback.clientAddress('127.0.0.1', '203.0.113.9, 10.1.1.1', undefined)).toBe('10.1.1.1');
      expect(loopbackAndTen.clientAddress('127.0.0.1', '203.0.113.9, 10.1.1.1', undefined)).toBe('203.0.113.9');
      expect(loopbackAndTen.clientAddress('127.0.0.1', '198.51.100.7, 203.0.113.9, 10.1.1.1, 10.2.2.2', undefined)).toBe('203.0.113.9');
      expect(loopbackAndTen.clientAddress('127.0.0.1', '203.0.113.9', undefined)).toBe('203.0.113.9');
    });

    it('trusts an IPv4-mapped peer through its IPv4 address', () => {
      expect(loopback.clientAddress('::ffff:127.0.0.1', '203.0.113.9', undefined)).toBe('203.0.113.9');
    });

    it('reads IPv6 hops', () => {
      const v6 = new TrustedProxies(['::1', 'fd00::/8']);
      expect(v6.clientAddress('::1', '2001:db8::7, fd00::2', undefined)).toBe('2001:db8::7');
    });

    it('when every hop is a trusted proxy, takes the leftmost', () => {
      expect(loopbackAndTen.clientAddress('127.0.0.1', '10.0.0.5, 10.0.0.6', undefined)).toBe('10.0.0.5');
      expect(loopbackAndTen.clientAddress('127.0.0.1', '127.0.0.1', undefined)).toBe('127.0.0.1');
    });

    it('falls back to the peer on a garbled hop met before an untrusted one', () => {
      expect(loopback.clientAddress('127.0.0.1', '203.0.113.9, not-an-ip', undefined)).toBe('127.0.0.1');
      expect(loopback.clientAddress('127.0.0.1', '203.0.113.9:443', undefined)).toBe('127.0.0.1');
      expect(loopback.clientAddress('127.0.0.1', '[2001:db8::1]', undefined)).toBe('127.0.0.1');
      expect(loopbackAndTen.clientAddress('127.0.0.1', 'garbage, 10.1.1.1', undefined)).toBe('127.0.0.1');
      // Hops left of the client are never read, garbled or not.
      expect(loopback.clientAddress('127.0.0.1', 'garbage, 203.0.113.9', undefined)).toBe('203.0.113.9');
    });

    it('skips empty hops and surrounding blanks', () => {
      expect(loopback.clientAddress('127.0.0.1', ' , 203.0.113.9 ,, ', undefined)).toBe('203.0.113.9');
    });

    it('joins repeated X-Forwarded-For headers in order', () => {
      expect(loopbackAndTen.clientAddress('127.0.0.1', ['198.51.100.7, 203.0.113.9', '10.1.1.1'], undefined)).toBe('203.0.113.9');
      expect(loopback.clientAddress('127.0.0.1', ['198.51.100.7', '203.0.113.9'], undefined)).toBe('203.0.113.9');
    });

    it('uses X-Real-IP only when there is no X-Forwarded-For', () => {
      expect(loopback.clientAddress('127.0.0.1', undefined, '198.51.100.1')).toBe('198.51.100.1');
      expect(loopback.clientAddress('127.0.0.1', '', ' 198.51.100.1 ')).toBe('198.51.100.1');
      expect(loopback.clientAddress('127.0.0.1', '203.0.113.9', '198.51.100.1')).toBe('203.0.113.9');
      expect(loopback.clientAddress('127.0.0.1', undefined, ['198.51.100.1', '198.51.100.2'])).toBe('198.51.100.1');
    });

    it('ignores a garbled X-Real-IP', () => {
      expect(loopback.clientAddress('127.0.0.1', undefined, 'not-an-ip')).toBe('127.0.0.1');
      expect(loopback.clientAddress('127.0.0.1', undefined, '')).toBe('127.0.0.1');
      expect(loopback.clientAddress('127.0.0.1', undefined, [])).toBe('127.0.0.1');
    });

    it('is the peer when a trusted peer sends no header', () => {
      expect(loopback.clientAddress('127.0.0.1', undefined, undefined)).toBe('127.0.0.1');
      expect(loopback.clientAddress('::ffff:127.0.0.1', undefined, undefined)).toBe('::ffff:127.0.0.1');
    });
  });
});
