import { describe, expect, it } from 'vitest';
import { messagesIn, SseFrames } from '../../src/wire/sse-frames.js';

describe('SseFrames', () => {
  it('gives the data of each event, across chunk boundaries, CRLF or LF, multi-line data joined', () => {
    const frames = new SseFrames();
    expect(frames.push('event: message\nid: 1\ndata: {"a"')).toEqual([]);
    expect(frames.push(':1}\n\nevent: message\r\ndata: first\r\ndata: second\r\n\r\n: keepalive\n\n')).toEqual(['{"a":1}', 'first\nsecond']);
    expect(frames.push('data:no-space\n\n')).toEqual(['no-space']);
  });

  it('takes a \\r\\n split across two chunks as one line end', () => {
    const frames = new SseFrames();
    expect(frames.push('data: a\r\n\r')).toEqual([]);
    expect(frames.push('\ndata: b\r')).toEqual(['a']);
    expect(frames.push('\n\r\n')).toEqual(['b']);
  });

  it('passes over events without data: a priming event, comments', () => {
    expect(new SseFrames().push('id: 0\ndata: \n\n: keepalive\n\nevent: message\ndata: {"x":2}\n\n')).toEqual(['{"x":2}']);
  });
});

describe('messagesIn', () => {
  const answer = 'id: EVENT-0\ndata: \n\nevent: message\nid: EVENT-1\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}\n\nevent: message\nid: EVENT-2\ndata: {"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25"}}';

  it('reads every JSON-RPC message of an SSE body, past the priming event, the last one without its blank line', () => {
    expect(messagesIn(answer, true)).toEqual([
      { jsonrpc: '2.0', method: 'notifications/progress', params: {} },
      { jsonrpc: '2.0', id: 1, result: { protocolVersion: '2025-11-25' } },
    ]);
  });

  it('reads a JSON body as its one message, and nothing from what is not a message', () => {
    expect(messagesIn('{"jsonrpc":"2.0","id":2,"result":{}}', false)).toEqual([{ jsonrpc: '2.0', id: 2, result: {} }]);
    expect(messagesIn('[1,2]', false)).toEqual([]);
    expect(messagesIn('<html>', false)).toEqual([]);
    expect(messagesIn('data: not json\n\n', true)).toEqual([]);
  });
});
