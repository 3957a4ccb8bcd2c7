import { describe, expect, it } from 'vitest';
import { ResponseParseError, ResponseParser, type ResponseHead } from '../../src/proxy/http1-response.js';

interface Heard {
  heads: { status: number; reason: string; raw: string[]; type: string | undefined }[];
  body: string;
  ends: number;
  parser: ResponseParser;
}

/** A parser fed `pieces` one after another, with what it reported. */
function parse(pieces: readonly (string | Buffer)[], noBody = false): Heard {
  const heard: Omit<Heard, 'parser'> = { heads: [], body: '', ends: 0 };
  const parser = new ResponseParser(
    {
      head: (head: ResponseHead) => void heard.heads.push({ status: head.status, reason: head.reason, raw: head.raw, type: head.header('content-type') }),
      body: (chunk) => void (heard.body += chunk.toString('latin1')),
      end: () => void heard.ends++,
    },
    noBody,
  );
  for (const piece of pieces) parser.push(typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece);
  return { ...heard, parser };
}

/** Every way of cutting `text` in two, and one byte at a time. */
function splits(text: string): string[][] {
  const ways: string[][] = [];
  for (let at = 1; at < text.length; at++) ways.push([text.slice(0, at), text.slice(at)]);
  ways.push([...text]);
  return ways;
}

const SSE = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nMcp-Session-Id: s1\r\nTransfer-Encoding: chunked\r\nKeep-Alive: timeout=5\r\n\r\n';
const EVENT = 'event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n';
const CHUNKED = `${SSE}${EVENT.length.toString(16)};ext=1\r\n${EVENT}\r\n0\r\nX-Trailer: t\r\n\r\n`;
const JSON_ANSWER = 'HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}';

describe('ResponseParser', () => {
  it('reads a chunked event stream however its bytes are cut: the head once, the body exactly, trailers dropped, the connection reusable', () => {
    for (const pieces of splits(CHUNKED)) {
      const { heads, body, ends, parser } = parse(pieces);
      expect(heads).toEqual([
        {
          status: 200,
          reason: 'OK',
          raw: ['Content-Type', 'text/event-stream', 'Mcp-Session-Id', 's1', 'Transfer-Encoding', 'chunked', 'Keep-Alive', 'timeout=5'],
          type: 'text/event-stream',
        },
      ]);
      expect([body, ends, parser.done, parser.reusableNow, parser.keepAliveMs]).toEqual([EVENT, 1, true, true, 5000]);
    }
  });

  it('reads a Content-Length body however its bytes are cut', () => {
    for (const pieces of splits(JSON_ANSWER)) {
      const { heads, body, ends, parser } = parse(pieces);
      expect([heads.map((head) => [head.status, head.reason, head.type]), body, ends, parser.reusableNow]).toEqual([[[202, 'Accepted', 'application/json']], '{"ok":true}', 1, true]);
    }
  });

  it('skips interim answers (103, 100) and reports the final one', () => {
    const { heads, body } = parse(['HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n', JSON_ANSWER]);
    expect([heads.map((head) => head.status), body]).toEqual([[202], '{"ok":true}']);
  });

  it('ends an answer without a body at its head: 204, 304, a HEAD request, Content-Length 0', () => {
    for (const [text, noBody] of [
      ['HTTP/1.1 204 No Content\r\n\r\n', false],
      ['HTTP/1.1 304 Not Modified\r\nContent-Length: 40\r\n\r\n', false],
      ['HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n', true],
      ['HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n', false],
    ] as const) {
      const { body, ends, parser } = parse([text], noBody);
      expect([body, ends, parser.reusableNow]).toEqual(['', 1, true]);
    }
  });

  it('reads to the connection\'s end an answer with no framing, or framed by a coding other than chunked, and does not reuse its connection', () => {
    for (const head of ['HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n']) {
      const { body, ends, parser } = parse([head, '{"a":', '1}']);
      expect([body, ends, parser.done]).toEqual(['{"a":1}', 0, false]);
      expect(parser.close()).toBe(true);
      expect([parser.done, parser.reusableNow]).toEqual([true, false]);
    }
  });

  it('tells a cut answer from a whole one when the connection closes', () => {
    const cut = parse(['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789']);
    expect([cut.body, cut.parser.close(), cut.ends]).toEqual(['0123456789', false, 0]);
    const whole = parse([JSON_ANSWER]);
    expect(whole.parser.close()).toBe(true);
  });

  it('does not reuse a connection the answer closes, of HTTP/1.0, or with bytes after the answer', () => {
    expect(parse(['HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n']).parser.reusableNow).toBe(false);
    expect(parse(['HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n']).parser.reusableNow).toBe(false);
    expect(parse(['HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n']).parser.reusableNow).toBe(false);
    expect(parse(['HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n']).parser.reusableNow).toBe(true);
    const extra = parse([`${JSON_ANSWER}HTTP/1.1 200 OK\r\n\r\n`]);
    expect([extra.body, extra.ends, extra.parser.done, extra.parser.reusableNow]).toEqual(['{"ok":true}', 1, true, false]);
  });

  it('refuses what it cannot frame for sure, with a message that says what', () => {
    const refused = (pieces: string[]): string => {
      try {
        parse(pieces);
      } catch (error) {
        expect(error).toBeInstanceOf(ResponseParseError);
        return `${(error as ResponseParseError).code}: ${(error as Error).message}`;
      }
      return 'accepted';
    };
    expect([
      refused(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n']),
      refused(['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n']),
      refused(['HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n']),
      refused(['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n']),
      refused(['HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n']),
      refused(['HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n']),
      refused(['HTTP/1.1 2x0 OK\r\n\r\n']),
      refused(['HTTP/1.1 1e2 OK\r\n\r\n']),
      refused(['HTTP/2 200 OK\r\n\r\n']),
      refused(['HTTP/1.1 200OK\r\n\r\n']),
      refused(['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n']),
      refused(['HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n']),
      refused(['HTTP/1.1 200 OK\r\nX A: 1\r\n\r\n']),
      refused(['HTTP/1.1 200 OK\r\n: 1\r\n\r\n']),
      refused(['HTTP/1.1 200 OK\r\nno-colon\r\n\r\n']),
      refused(['HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A : 1\r\n\r\n']),
      refused(['HTTP/1.1 200 OK\r\nX-\u00e9: 1\r\nContent-Length: 0\r\n\r\n']),
      refused(['HTTP/1.1 200 OK\r\nX-A: a\u0001b\r\nContent-Length: 0\r\n\r\n']),
      refused(['HTTP/1.1 200 OK\r\nX-A: a\nX-B: b\r\nContent-Length: 0\r\n\r\n']),
      refused(['HTTP/1.1 200 O\u0000K\r\nContent-Length: 0\r\n\r\n']),
      refused(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n']),
      refused(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n']),
      refused([`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(16_400)}`]),
      refused(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', '1'.repeat(4100)]),
    ]).toEqual([
      'HPE_INVALID_RESPONSE: both Transfer-Encoding and Content-Length',
      'HPE_INVALID_RESPONSE: a bad Content-Length',
      'HPE_INVALID_RESPONSE: a bad Content-Length',
      'HPE_INVALID_RESPONSE: a bad Content-Length',
      'HPE_INVALID_RESPONSE: a bad Content-Length',
      'HPE_INVALID_RESPONSE: a bad Content-Length',
      'HPE_INVALID_RESPONSE: not an HTTP/1.x status line',
      'HPE_INVALID_RESPONSE: not an HTTP/1.x status line',
      'HPE_INVALID_RESPONSE: not an HTTP/1.x status line',
      'HPE_INVALID_RESPONSE: not an HTTP/1.x status line',
      'HPE_INVALID_RESPONSE: an upgrade nobody asked for',
      'HPE_INVALID_RESPONSE: a malformed header line',
      'HPE_INVALID_RESPONSE: a malformed header line',
      'HPE_INVALID_RESPONSE: a malformed header line',
      'HPE_INVALID_RESPONSE: a malformed header line',
      'HPE_INVALID_RESPONSE: a malformed header line',
      'HPE_INVALID_RESPONSE: a malformed header line',
      'HPE_INVALID_RESPONSE: a malformed header line',
      'HPE_INVALID_RESPONSE: a malformed header line',
      'HPE_INVALID_RESPONSE: not an HTTP/1.x status line',
      'HPE_INVALID_RESPONSE: bad chunk size "zz"',
      'HPE_INVALID_RESPONSE: a chunk not followed by CRLF',
      'HPE_INVALID_RESPONSE: the upstream sent a head over 16 KiB',
      'HPE_INVALID_RESPONSE: the upstream sent a chunk-size line over 4 KiB',
    ]);
  });

  it('accepts the same Content-Length repeated, and a status line without a reason', () => {
    const repeated = parse(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok']);
    expect([repeated.body, repeated.ends]).toEqual(['ok', 1]);
    const bare = parse(['HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n']);
    expect(bare.heads.map((head) => [head.status, head.reason])).toEqual([[200, '']]);
  });

  it('trims a header value of spaces and tabs only, as node:http does: a byte 0xa0 at its edge is kept', () => {
    // node:http's client reads `x-v: \xa0a\xa0 \t` as "\xa0a\xa0" (checked against it); String#trim would take the 0xa0 bytes too.
    const { heads } = parse(['HTTP/1.1 200 OK\r\nX-V: \xa0a\xa0 \t\r\nX-Empty:\r\nContent-Length: 0\r\n\r\n']);
    expect(heads.map((head) => head.raw)).toEqual([['X-V', '\xa0a\xa0', 'X-Empty', '', 'Content-Length', '0']]);
  });

  it('passes a large body on as slices of what arrived, without copying it whole', () => {
    const body = Buffer.alloc(300_000, 'x');
    const chunks: number[] = [];
    const parser = new ResponseParser({ head: () => {}, body: (chunk) => void chunks.push(chunk.length), end: () => {} });
    parser.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n'));
    for (let at = 0; at < body.length; at += 65_536) parser.push(body.subarray(at, at + 65_536));
    expect([chunks, parser.done]).toEqual([[65_536, 65_536, 65_536, 65_536, 37_856], true]);
  });
});
