import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SessionTracker } from '../../src/core/session-tracker.js';
import { readNodeRequest } from '../../src/wire/classifier.js';
import { HttpExchangeMonitor } from '../../src/wire/exchange-monitor.js';
import { jsonHead } from '../../src/wire/exchange.js';

const MODERN = '2026-07-28';
const CALL = {
  jsonrpc: '2.0',
  id: 7,
  method: 'tools/call',
  params: { name: 'echo', arguments: {}, _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' } } },
};

/** A node:http request as the monitor reads it: a POST with the 2026-07-28 headers. */
function post(): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.method = 'POST';
  req.headers = { 'content-type': 'application/json', 'mcp-protocol-version': MODERN };
  return req;
}

function setUp(): { monitor: HttpExchangeMonitor; operations: string[] } {
  const tracker = new SessionTracker();
  tracker.tools.offer([{ name: 'echo' }]);
  const operations: string[] = [];
  tracker.subscribe({ onOperation: (o) => void operations.push(`${o.method} ${o.toolName} error=${o.errorType}`) });
  return { monitor: new HttpExchangeMonitor({ tracker, sessionIdleTimeoutMs: 0 }), operations };
}

describe('a JSON answer whose body never arrives whole', () => {
  it('ends its operation as _OTHER when the client leaves mid-body, once', () => {
    const { monitor, operations } = setUp();
    const watch = monitor.watchRequest(readNodeRequest(post(), CALL), { clientIP: '127.0.0.1', userAgent: '' })(jsonHead(200));
    expect(watch?.whole).toBeTypeOf('function');
    watch?.cancel?.();
    watch?.end?.();
    watch?.end?.();
    expect(operations).toEqual(['tools/call echo error=_OTHER']);
  });

  it('ends its operation as _OTHER when the upstream cuts it (no cancel), and a whole answer still counts by its outcome', () => {
    const { monitor, operations } = setUp();
    monitor.watchRequest(readNodeRequest(post(), CALL), { clientIP: '127.0.0.1', userAgent: '' })(jsonHead(200))?.end?.();
    const whole = monitor.watchRequest(readNodeRequest(post(), CALL), { clientIP: '127.0.0.1', userAgent: '' })(jsonHead(200));
    whole?.whole?.(JSON.stringify({ jsonrpc: '2.0', id: 7, result: { content: [], isError: true } }));
    whole?.end?.();
    expect(operations).toEqual(['tools/call echo error=_OTHER', 'tools/call echo error=tool_error']);
  });

  it('a failed answer (500) cut before its body ends as _OTHER, and one read whole by its JSON-RPC code', () => {
    const { monitor, operations } = setUp();
    monitor.watchRequest(readNodeRequest(post(), CALL), { clientIP: '127.0.0.1', userAgent: '' })(jsonHead(500))?.end?.();
    const whole = monitor.watchRequest(readNodeRequest(post(), CALL), { clientIP: '127.0.0.1', userAgent: '' })(jsonHead(500));
    whole?.whole?.(JSON.stringify({ jsonrpc: '2.0', id: 7, error: { code: -32603, message: 'Internal error' } }));
    whole?.end?.();
    expect(operations).toEqual(['tools/call echo error=_OTHER', 'tools/call echo error=-32603']);
  });
});

describe('a handler wrapped by wrap()', () => {
  const request = () =>
    new Request('http://127.0.0.1/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'mcp-protocol-version': MODERN, 'x-router': 'own' },
      body: JSON.stringify(CALL),
    });
  const answer = (id: unknown) => Response.json({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'hi' }] } });

  it('is given the parsed body, and a request whose body it can still read itself, as often as it clones it', async () => {
    const { monitor, operations } = setUp();
    const seen: unknown[] = [];
    const wrapped = monitor.wrap({
      // A router of your own: it ignores parsedBody and reads the request.
      fetch: async (req: Request, options?: { parsedBody?: unknown }) => {
        const copy = req.clone();
        seen.push(options?.parsedBody === undefined ? 'no parsedBody' : 'parsedBody', req instanceof Request, req.bodyUsed, req.method, req.url, req.headers.get('x-router'));
        const message = (await req.json()) as { id: unknown };
        seen.push(req.bodyUsed, ((await copy.json()) as { id: unknown }).id);
        return answer(message.id);
      },
    });
    const response = await wrapped.fetch(request());
    expect(await response.json()).toEqual({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'hi' }] } });
    expect(seen).toEqual(['parsedBody', true, false, 'POST', 'http://127.0.0.1/mcp', 'own', true, 7]);
    expect(operations).toEqual(['tools/call echo error=']);
  });

  it('hands on a request whose body can be read, to a handler that makes a Request of it (a gateway)', async () => {
    const { monitor, operations } = setUp();
    const wrapped = monitor.wrap({
      // The runtime reads the request's internal slots, not its body members.
      fetch: async (req: Request) => answer(((await new Request(req).json()) as { id: unknown }).id),
    });
    expect(await (await wrapped.fetch(request())).json()).toEqual({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'hi' }] } });
    expect(operations).toEqual(['tools/call echo error=']);
  });

  it('reads the given request\'s own body, not a clone\'s, when the handler takes parsedBody', async () => {
    const { monitor, operations } = setUp();
    const made: Request[] = [];
    const wrapped = monitor.wrap({
      fetch: async (req: Request, options?: { parsedBody?: unknown }) => {
        made.push(req);
        return answer((options?.parsedBody as { id: unknown }).id);
      },
    });
    const given = request();
    await (await wrapped.fetch(given)).json();
    // The handler's request reads as the given one; the given one's body was read here (a clone would have left it unread).
    expect([made.length, made[0]?.headers.get('x-router'), given.bodyUsed]).toEqual([1, 'own', true]);
    expect(operations).toEqual(['tools/call echo error=']);
  });
});
