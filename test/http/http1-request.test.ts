import { describe, expect, it } from 'vitest';
import { isFieldValue, isToken } from '../../src/http/http-chars.js';
import { mayBePost, readRequestHead } from '../../src/http/http1-request.js';

const LINE = 'POST /mcp HTTP/1.1';
const HEADERS = [
  'Host: 127.0.0.1:3000',
  'User-Agent: ua',
  'Content-Type: application/json',
  'Content-Length: 12',
  'Mcp-Session-Id: abc',
  'MCP-Protocol-Version: 2025-06-18',
];

/** A head as the front door passes it: latin1 text from the request line to the last header line, without the empty line. */
function head(line: string, headers: readonly string[]): string {
  return [line, ...headers].join('\r\n');
}

/** `readRequestHead` of a `POST /mcp` with `headers`, a body of at most 1000 bytes. */
function read(headers: readonly string[], line = LINE) {
  return readRequestHead(head(line, headers), '/mcp', 1000);
}

describe('readRequestHead', () => {
  it('reads a plain POST of the endpoint: every header as sent, the known ones by name, the length, keep-alive', () => {
    expect(read(HEADERS)).toEqual({
      raw: [
        'Host', '127.0.0.1:3000',
        'User-Agent', 'ua',
        'Content-Type', 'application/json',
        'Content-Length', '12',
        'Mcp-Session-Id', 'abc',
        'MCP-Protocol-Version', '2025-06-18',
      ],
      names: ['host', 'user-agent', 'content-type', 'content-length', 'mcp-session-id', 'mcp-protocol-version'],
      headers: {
        host: '127.0.0.1:3000',
        'user-agent': 'ua',
        'x-forwarded-for': undefined,
        'x-real-ip': undefined,
        'mcp-session-id': 'abc',
        'mcp-protocol-version': '2025-06-18',
      },
      contentLength: 12,
      close: false,
    });
  });

  it('accepts a query string on the endpoint', () => {
    expect(read(HEADERS, 'POST /mcp?x=1 HTTP/1.1')?.contentLength).toBe(12);
  });

  it('closes after the answer on Connection: close, not on keep-alive', () => {
    expect(read([...HEADERS, 'Connection: close'])?.close).toBe(true);
    expect(read([...HEADERS, 'Connection: keep-alive'])?.close).toBe(false);
  });

  it('matches header names whatever their case', () => {
    const got = read(['HOST: h', 'user-agent: u', 'x-FORWARDED-for: 10.0.0.1', 'X-Real-Ip: 10.0.0.2', 'content-LENGTH: 3', 'mcp-session-ID: s', 'Mcp-Protocol-Version: v', 'CONNECTION: CLOSE']);
    expect(got?.headers).toEqual({
      host: 'h',
      'user-agent': 'u',
      'x-forwarded-for': '10.0.0.1',
      'x-real-ip': '10.0.0.2',
      'mcp-session-id': 's',
      'mcp-protocol-version': 'v',
    });
    expect([got?.contentLength, got?.close]).toEqual([3, true]);
  });

  it('trims the spaces and tabs around a value, in raw too', () => {
    const got = read(['Host:   a  \t', 'Content-Length:\t5 ']);
    expect([got?.raw, got?.headers.host, got?.contentLength]).toEqual([['Host', 'a', 'Content-Length', '5'], 'a', 5]);
  });

  it('accepts a body of exactly maxBodyBytes', () => {
    expect(read(['Host: h', 'Content-Length: 1000'])?.contentLength).toBe(1000);
  });

  it('keeps values with bytes 0x80 to 0xff and tabs inside as given', () => {
    const got = read(['Host: h', 'Content-Length: 1', 'User-Agent: caf\xe9\tau lait', 'X-Bytes: \x80\xff']);
    expect(got?.raw).toEqual(['Host', 'h', 'Content-Length', '1', 'User-Agent', 'caf\xe9\tau lait', 'X-Bytes', '\x80\xff']);
    expect(got?.headers['user-agent']).toBe('caf\xe9\tau lait');
  });

  it('leaves to node:http every request it does not relay itself', () => {
    const ok = ['Host: h', 'Content-Length: 5'];
    const rows: [string, string][] = [
      ['GET', head('GET /mcp HTTP/1.1', ok)],
      ['HEAD', head('HEAD /mcp HTTP/1.1', ok)],
      ['another path', head('POST /other HTTP/1.1', ok)],
      ['a path the endpoint begins', head('POST /mcpx HTTP/1.1', ok)],
      ['HTTP/1.0', head('POST /mcp HTTP/1.0', ok)],
      ['absolute form', head('POST http://h/mcp HTTP/1.1', ok)],
      ['a space in the target', head('POST /mcp x HTTP/1.1', ok)],
      ['no Host (node:http refuses it: 400)', head(LINE, ['Content-Length: 5'])],
      ['no Content-Length', head(LINE, ['Host: h'])],
      ['two Content-Length, equal', head(LINE, ['Host: h', 'Content-Length: 5', 'Content-Length: 5'])],
      ['two Content-Length, different', head(LINE, ['Host: h', 'Content-Length: 5', 'Content-Length: 6'])],
      ['Content-Length +5', head(LINE, ['Host: h', 'Content-Length: +5'])],
      ['Content-Length 5 5', head(LINE, ['Host: h', 'Content-Length: 5 5'])],
      ['Content-Length -1', head(LINE, ['Host: h', 'Content-Length: -1'])],
      ['Content-Length 0x10', head(LINE, ['Host: h', 'Content-Length: 0x10'])],
      ['Content-Length of 16 digits', head(LINE, ['Host: h', 'Content-Length: 1000000000000000'])],
      ['Content-Length over maxBodyBytes', head(LINE, ['Host: h', 'Content-Length: 1001'])],
      ['Transfer-Encoding with Content-Length', head(LINE, [...ok, 'Transfer-Encoding: chunked'])],
      ['Transfer-Encoding alone', head(LINE, ['Host: h', 'Transfer-Encoding: chunked'])],
      ['Expect', head(LINE, [...ok, 'Expect: 100-continue'])],
      ['Upgrade', head(LINE, [...ok, 'Upgrade: websocket'])],
      ['Origin', head(LINE, [...ok, 'Origin: http://localhost'])],
      ['Connection: Upgrade', head(LINE, [...ok, 'Connection: Upgrade'])],
      ['Connection: keep-alive, upgrade', head(LINE, [...ok, 'Connection: keep-alive, upgrade'])],
      ['a line folded with a space', head(LINE, [...ok, 'User-Agent: a', ' b'])],
      ['a line folded with a tab', head(LINE, [...ok, 'User-Agent: a', '\tb'])],
      ['a folded line with a colon', head(LINE, [...ok, 'User-Agent: a', ' b: c'])],
      ['a line without a colon', head(LINE, [...ok, 'User-Agent'])],
      ['an empty name', head(LINE, [...ok, ': x'])],
      ['a space before the colon', head(LINE, ['Host : x', 'Content-Length: 5'])],
      ['a quote in a name', head(LINE, [...ok, 'Ho"st: x'])],
      ['a latin1 letter in a name', head(LINE, [...ok, 'H\xf3st: x'])],
      ['NUL in a value', head(LINE, [...ok, 'User-Agent: a\x00b'])],
      ['a bare LF in a value', head(LINE, [...ok, 'User-Agent: a\nb'])],
      ['a bare CR in a value', head(LINE, [...ok, 'User-Agent: a\rb'])],
      ['DEL in a value', head(LINE, [...ok, 'User-Agent: a\x7fb'])],
      ['a character above 0xff in a value', head(LINE, [...ok, 'User-Agent: a\u0100b'])],
      ['two Host', head(LINE, [...ok, 'Host: h'])],
      ['two User-Agent', head(LINE, [...ok, 'User-Agent: a', 'User-Agent: a'])],
      ['two X-Forwarded-For', head(LINE, [...ok, 'X-Forwarded-For: 10.0.0.1', 'X-Forwarded-For: 10.0.0.2'])],
      ['two X-Real-IP', head(LINE, [...ok, 'X-Real-IP: 10.0.0.1', 'X-Real-IP: 10.0.0.1'])],
      ['two Mcp-Session-Id', head(LINE, [...ok, 'Mcp-Session-Id: a', 'Mcp-Session-Id: b'])],
      ['two MCP-Protocol-Version', head(LINE, [...ok, 'MCP-Protocol-Version: 2025-06-18', 'mcp-protocol-version: 2025-06-18'])],
      ['two Connection', head(LINE, [...ok, 'Connection: keep-alive', 'Connection: close'])],
    ];
    expect(read(ok)).toBeDefined();
    const accepted = rows.filter(([, text]) => readRequestHead(text, '/mcp', 1000) !== undefined).map(([name]) => name);
    expect(accepted).toEqual([]);
  });
});

describe('mayBePost', () => {
  it('is true while the bytes so far can still begin `POST `', () => {
    expect(['', 'P', 'POS', 'POST ', 'POST /mcp'].map((text) => mayBePost(Buffer.from(text, 'latin1')))).toEqual([true, true, true, true, true]);
  });

  it('is false once they cannot', () => {
    expect(['G', 'GET ', 'PUT ', 'post ', 'POSTX'].map((text) => mayBePost(Buffer.from(text, 'latin1')))).toEqual([false, false, false, false, false]);
  });
});

describe('isToken', () => {
  it('accepts the characters of a token', () => {
    expect(['content-type', "!#$%&'*+-.^_`|~09AZaz"].map(isToken)).toEqual([true, true]);
  });

  it('refuses an empty name and any other character', () => {
    expect(['', 'a b', 'a:b', 'a"b', '\xe9', 'a\u0100'].map(isToken)).toEqual([false, false, false, false, false, false]);
  });
});

describe('isFieldValue', () => {
  it('accepts empty, visible ASCII, space, tab and the bytes 0x80 to 0xff', () => {
    expect(['', 'a b\tc', 'caf\xe9', '\x80\xff'].map(isFieldValue)).toEqual([true, true, true, true]);
  });

  it('refuses other control characters, DEL, and characters above 0xff', () => {
    expect(['a\x00', 'a\nb', 'a\rb', '\x7f', '\x1f', '\u0100', '\u20ac'].map(isFieldValue)).toEqual([false, false, false, false, false, false, false]);
  });
});
