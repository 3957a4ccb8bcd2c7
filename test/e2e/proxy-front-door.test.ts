/**
 * The proxy's front door, seen from a raw TCP client: a plain `POST /mcp` (one Content-Length,
 * a JSON body, nothing unusual in its head) is relayed to the upstream without node:http's
 * server, so `httpServer` emits no 'request' for it; everything else is handed to node:http
 * and answered as node:http answers it today. These tests pin both halves: the 'request'
 * counts of the fast path, and the bytes (answers, refusals, 408s, keep-alive, closes) that
 * must stay node:http's whichever side of the door a request goes through.
 */
import { connect, type Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoServer } from '../../src/demo/demo-server.js';
import { createDemoModernHandler } from '../../src/demo/demo-server-v2.js';
import { HttpUpstream } from '../../src/proxy/http-upstream.js';
import { startMonitoredServer, type MonitoredServer, type MonitoredServerOptions } from '../../src/server.js';
import { rawSession, samples, startDemo } from '../helpers.js';

const MODERN = '2026-07-28';
const envelope = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
/** A request to POST: its JSON body, and the head lines its era wants (each ending CRLF). */
interface Message {
  body: string;
  headers: string;
}
/** A 2026-07-28 tools/call (no session needed; the headers repeat the method and tool). */
const call = (id: number, name: string, args: Record<string, unknown>): Message => ({
  body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, _meta: envelope } }),
  headers: `MCP-Protocol-Version: ${MODERN}\r\nMcp-Method: tools/call\r\nMcp-Name: ${name}\r\n`,
});
const echo = (id: number, text = `hello ${id}`): Message => call(id, 'echo', { text });
/** A 2025 tools/call in the session `session` (its rawSession headers). */
const legacyCall = (session: Record<string, string>, id: number, name: string, args: Record<string, unknown>): Message => ({
  body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }),
  headers: `Mcp-Session-Id: ${session['mcp-session-id']}\r\nMCP-Protocol-Version: 2025-06-18\r\n`,
});
/** What the demo's echo answers to echo(id, text), in the 2026-07-28 era. */
const echoed = (id: number, text = `hello ${id}`): unknown => ({
  jsonrpc: '2.0',
  id,
  result: { content: [{ type: 'text', text }], resultType: 'complete', _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'mcp-exporter-demo', version: '0.1.0' } } },
});
const NODE_408 = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';

/** One answer read off the wire: status line, head lines in order, the body (de-chunked), the exact head and the exact bytes. */
interface Answer {
  status: string;
  headers: [string, string][];
  body: string;
  head: string;
  raw: string;
}
const header = (answer: Answer, name: string): string | undefined => answer.headers.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
/** Bytes of an answer with the Date value blanked (the one value that may differ between two answers). */
const undated = (text: string): string => text.replace(/\r\nDate: [^\r]*\r\n/, '\r\nDate: -\r\n');

/** A raw client connection: writes exact bytes, reads whole HTTP/1.1 answers one at a time. */
class Wire {
  private buffer = Buffer.alloc(0);
  private wake: () => void = () => {};
  private ended = false;
  /** Resolves when the connection has closed (either side). */
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('data', (data: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, data]);
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true;
        this.wake();
        resolve();
      }),
    );
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  /** Writes `bytes` (a string as UTF-8), resolved once handed to the socket. */
  write(bytes: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (error) => (error ? reject(error) : resolve())));
  }

  /** Waits until `text` has arrived; resolves with everything unread so far, which stays unread. */
  async until(text: string): Promise<string> {
    while (this.buffer.indexOf(text) < 0) await this.more();
    return this.buffer.toString('latin1');
  }

  /** Everything the server sends from now until it closes the connection. */
  async rest(): Promise<string> {
    await this.closed;
    return this.take(this.buffer.length).toString('latin1');
  }

  /** Reads the next whole answer: framed by Content-Length, chunked (no trailers), or by the close. */
  async answer(): Promise<Answer> {
    await this.until('\r\n\r\n');
    const eoh = this.buffer.indexOf('\r\n\r\n');
    const head = this.buffer.toString('latin1', 0, eoh + 4);
    const [status = '', ...lines] = head.slice(0, -4).split('\r\n');
    const headers = lines.map((line): [string, string] => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]);
    const draft: Answer = { status, headers, body: '', head, raw: '' };
    const length = header(draft, 'content-length');
    let at = eoh + 4;
    const parts: Buffer[] = [];
    if (header(draft, 'transfer-encoding') === 'chunked') {
      for (let size = -1; size !== 0; ) {
        let eol: number;
        while ((eol = this.buffer.indexOf('\r\n', at)) < 0) await this.more();
        size = parseInt(this.buffer.toString('latin1', at, eol), 16);
        while (this.buffer.length < eol + 2 + size + 2) await this.more();
        parts.push(Buffer.from(this.buffer.subarray(eol + 2, eol + 2 + size)));
        at = eol + 2 + size + 2;
      }
    } else if (length !== undefined) {
      while (this.buffer.length < at + Number(length)) await this.more();
      parts.push(Buffer.from(this.buffer.subarray(at, at + Number(length))));
      at += Number(length);
    } else {
      await this.closed;
      parts.push(Buffer.from(this.buffer.subarray(at)));
      at = this.buffer.length;
    }
    return { ...draft, body: Buffer.concat(parts).toString('utf8'), raw: this.take(at).toString('latin1') };
  }

  private take(count: number): Buffer {
    const taken = this.buffer.subarray(0, count);
    this.buffer = this.buffer.subarray(count);
    return taken;
  }

  private async more(): Promise<void> {
    if (this.ended) throw new Error(`the connection closed mid-answer; read so far: ${JSON.stringify(this.buffer.toString('latin1'))}`);
    await new Promise<void>((resolve) => (this.wake = resolve));
  }
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** A demo upstream (both eras) and the proxy in front of it; `requests()` counts the proxy's node:http 'request' events. */
async function startProxy(options: Partial<MonitoredServerOptions> = {}) {
  const upstream = await startDemo({ modernHandler: createDemoModernHandler() });
  cleanups.push(() => upstream.close());
  const registry = new Registry();
  const proxy: MonitoredServer = await startMonitoredServer({ serverFactory: createDemoServer, port: 0, registry, endpointHandler: new HttpUpstream({ url: new URL(upstream.url) }), ...options });
  cleanups.push(() => proxy.close());
  let requests = 0;
  proxy.httpServer.on('request', () => requests++);
  const host = `127.0.0.1:${proxy.port}`;
  return {
    upstream,
    proxy,
    host,
    requests: (): number => requests,
    /** The proxy's exposition, read from its registry (a GET /metrics would be a 'request' itself). */
    metrics: (): Promise<string> => registry.metrics(),
    /** A connection to the proxy, destroyed after the test. */
    wire: (): Promise<Wire> =>
      new Promise((resolve) => {
        const socket = connect(proxy.port, '127.0.0.1', () => resolve(new Wire(socket)));
        cleanups.push(async () => void socket.destroy());
      }),
    /** A POST as an MCP client writes it; `extra` head lines (each ending CRLF) before its framing. */
    post: ({ body, headers }: Message, extra = ''): string =>
      `POST /mcp HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n${headers}${extra}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    /** The same POST with its body chunked: node:http's to answer, never the fast path's. */
    chunked: ({ body, headers }: Message): string =>
      `POST /mcp HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n${headers}` +
      `Transfer-Encoding: chunked\r\n\r\n${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`,
  };
}

/** Resolves with the next request the upstream's listener gets, and its response. */
const nextUpstreamRequest = (upstream: MonitoredServer): Promise<{ req: IncomingMessage; res: ServerResponse }> =>
  new Promise((resolve) => upstream.httpServer.once('request', (req: IncomingMessage, res: ServerResponse) => resolve({ req, res })));

const operations = (tool: string, count: number): string =>
  `mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="${tool}",error_type="",mcp_protocol_version="${MODERN}"} ${count}`;

describe('proxy --upstream: the front door', () => {
  it('1. answers three POSTs on one keep-alive connection without node:http, the connection open after each', async () => {
    const { wire, post, requests, metrics } = await startProxy();
    const socket = await wire();
    for (const id of [1, 2, 3]) {
      await socket.write(post(echo(id)));
      const answer = await socket.answer();
      expect([answer.status, header(answer, 'Connection'), header(answer, 'Keep-Alive'), JSON.parse(answer.body)]).toEqual(['HTTP/1.1 200 OK', 'keep-alive', 'timeout=5', echoed(id)]);
      expect(socket.isOpen).toBe(true);
    }
    const text = await metrics();
    expect(samples(text, 'mcp_server_operation_duration_seconds_count')).toEqual([operations('echo', 3)]);
    expect(samples(text, 'mcp_server_client_requests_total')).toEqual([`mcp_server_client_requests_total{client_name="raw",mcp_protocol_version="${MODERN}"} 3`]);
    expect(requests()).toBe(0);
  });

  it('2. answers two pipelined POSTs in order, the slower first', async () => {
    const { wire, post, requests } = await startProxy();
    const socket = await wire();
    await socket.write(post(call(1, 'sleep', { ms: 200 })) + post(echo(2)));
    const [first, second] = [await socket.answer(), await socket.answer()];
    expect(JSON.parse(first.body)).toMatchObject({ id: 1, result: { content: [{ type: 'text', text: 'slept 200 ms' }] } });
    expect(JSON.parse(second.body)).toEqual(echoed(2));
    expect([first.status, second.status, socket.isOpen]).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', true]);
    expect(requests()).toBe(0);
  });

  it('3. answers a POST whose body comes one byte per write; one whose head does too is node:http\'s', async () => {
    const { wire, post, requests } = await startProxy();
    const bytes = Buffer.from(post(echo(1, 'héllo')));
    const bodyAt = bytes.indexOf('\r\n\r\n') + 4;
    const socket = await wire();
    // The head in one write, the body a byte at a time (a two-byte character in it: its bytes in two writes).
    await socket.write(bytes.subarray(0, bodyAt));
    for (const byte of bytes.subarray(bodyAt)) await socket.write(Buffer.of(byte));
    const answer = await socket.answer();
    expect([answer.status, JSON.parse(answer.body)]).toEqual(['HTTP/1.1 200 OK', echoed(1, 'héllo')]);
    expect(requests()).toBe(0);
    // A head in more than 16 pieces is handed, with what came of it, to node:http: answered alike.
    // Each byte waits a turn of the event loop, whose poll reads it: the proxy gets them one by one.
    for (const byte of Buffer.from(post(echo(2, 'héllo')))) {
      await socket.write(Buffer.of(byte));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const handed = await socket.answer();
    expect([handed.status, JSON.parse(handed.body)]).toEqual(['HTTP/1.1 200 OK', echoed(2, 'héllo')]);
    expect(requests()).toBe(1);
  });

  it('4. hands a connection to node:http at its first other request, and keeps it there', async () => {
    const { wire, post, host, requests } = await startProxy();
    const socket = await wire();
    await socket.write(post(echo(1)));
    expect(JSON.parse((await socket.answer()).body)).toEqual(echoed(1));
    await socket.write(`GET /metrics HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    const scraped = await socket.answer();
    expect([scraped.status, header(scraped, 'Content-Type')]).toEqual(['HTTP/1.1 200 OK', 'text/plain; version=0.0.4; charset=utf-8']);
    expect(samples(scraped.body, 'mcp_server_client_requests_total')).toEqual([`mcp_server_client_requests_total{client_name="raw",mcp_protocol_version="${MODERN}"} 1`]);
    await socket.write(post(echo(3)));
    expect(JSON.parse((await socket.answer()).body)).toEqual(echoed(3));
    expect(socket.isOpen).toBe(true);
    expect(requests()).toBe(2);
  });

  it('5. answers alike on the fast path and through node:http: JSON (2026-07-28) and SSE (a 2025 session)', async () => {
    const { proxy, wire, post, chunked, requests } = await startProxy();
    const session = await rawSession(proxy.url, 'raw-2025');
    const cases: [Message, string[]][] = [
      [echo(1), ['content-type', 'Date', 'Connection', 'Keep-Alive', 'Transfer-Encoding']],
      [legacyCall(session, 7, 'echo', { text: 'sse' }), ['cache-control', 'content-type', 'mcp-session-id', 'x-accel-buffering', 'Date', 'Connection', 'Keep-Alive', 'Transfer-Encoding']],
    ];
    const answers: Answer[] = [];
    for (const [message, names] of cases) {
      const fast = await wire();
      await fast.write(post(message));
      const viaFast = await fast.answer();
      const handed = await wire();
      const before = requests();
      await handed.write(chunked(message));
      const viaNode = await handed.answer();
      expect(requests() - before).toBe(1);
      expect(viaFast.headers.map(([name]) => name)).toEqual(names);
      // The heads byte for byte but the Date; the bodies once de-chunked (chunk sizes follow the upstream's reads).
      expect([undated(viaFast.head), viaFast.body]).toEqual([undated(viaNode.head), viaNode.body]);
      answers.push(viaFast);
    }
    const [json, sse] = answers as [Answer, Answer];
    expect([json.status, header(json, 'content-type'), JSON.parse(json.body)]).toEqual(['HTTP/1.1 200 OK', 'application/json', echoed(1)]);
    expect([sse.status, header(sse, 'content-type'), header(sse, 'mcp-session-id'), sse.body]).toEqual([
      'HTTP/1.1 200 OK',
      'text/event-stream',
      session['mcp-session-id'],
      `event: message\ndata: ${JSON.stringify({ result: { content: [{ type: 'text', text: 'sse' }] }, jsonrpc: '2.0', id: 7 })}\n\n`,
    ]);
  });

  it('6. refuses bad requests as node:http does, each counted once', async () => {
    const { wire, post, host, requests, metrics } = await startProxy({ maxBodyBytes: 1000 });
    const refusal = async (bytes: string): Promise<string> => {
      const socket = await wire();
      await socket.write(bytes);
      return undated((await socket.answer()).raw);
    };
    const jsonError = (status: string, code: number, message: string): string => {
      const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
      return `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nDate: -\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n${body}`;
    };
    const closing = async (bytes: string): Promise<string> => {
      const socket = await wire();
      await socket.write(bytes).catch(() => {});
      return socket.rest();
    };

    const raw = (body: string): Message => ({ ...echo(0), body });
    expect(await refusal(post(raw('{"jsonrpc": "2.0", "id": 1,')))).toBe(jsonError('400 Bad Request', -32700, 'Parse error: the body is not valid JSON'));
    expect(await refusal(post(raw(`"${'x'.repeat(1998)}"`)))).toBe(jsonError('413 Payload Too Large', -32000, 'Payload too large: the limit is 1000 bytes'));
    expect(await refusal(post(echo(1)).replace(`Host: ${host}`, 'Host: evil.example'))).toBe(
      jsonError('403 Forbidden', -32000, 'Forbidden: this Host or Origin is not allowed (see --allowed-hosts, --allowed-origins)'),
    );
    expect(await refusal(post(raw(`${'['.repeat(300)}${']'.repeat(300)}`)))).toBe(jsonError('400 Bad Request', -32600, 'Invalid Request: JSON nested deeper than 256 levels'));
    expect(await closing(`POST /mcp HTTP/1.1 extra\r\nHost: ${host}\r\n\r\n`)).toBe('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    expect(await closing(post(echo(2), `X-Big: ${'a'.repeat(20 * 1024)}\r\n`))).toBe('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
    expect(await closing(post(raw('0\r\n\r\n'), 'Transfer-Encoding: chunked\r\n'))).toBe('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');

    // The four answered by the MCP route are node:http's requests; the three head errors never become one.
    expect(requests()).toBe(4);
    expect(samples(await metrics(), 'mcp_server_requests_rejected_total').filter((line) => !line.endsWith(' 0'))).toEqual([
      'mcp_server_requests_rejected_total{reason="parse_error"} 1',
      'mcp_server_requests_rejected_total{reason="invalid_request"} 1',
      'mcp_server_requests_rejected_total{reason="payload_too_large"} 1',
      'mcp_server_requests_rejected_total{reason="forbidden_host"} 1',
    ]);
  });

  it('7. answers a POST that says Connection: close, then closes the connection', async () => {
    const { wire, post, requests } = await startProxy();
    const socket = await wire();
    await socket.write(post(echo(1), 'Connection: close\r\n'));
    const answer = await socket.answer();
    expect([answer.status, header(answer, 'Connection'), header(answer, 'Keep-Alive'), JSON.parse(answer.body)]).toEqual(['HTTP/1.1 200 OK', 'close', undefined, echoed(1)]);
    expect(await socket.rest()).toBe('');
    expect(requests()).toBe(0);
  });

  it('8. answers 408 and closes when a head or a body does not come in time, with node:http\'s own bytes', async () => {
    const { wire, host, post } = await startProxy({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const stalled = async (bytes: string): Promise<string> => {
      const socket = await wire();
      await socket.write(bytes);
      return socket.rest();
    };
    const [postHead, getHead, postBody] = await Promise.all([
      stalled(`POST /mcp HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n`),
      // node:http's own answer: a GET is never the fast path's.
      stalled(`GET /mcp HTTP/1.1\r\nHost: ${host}\r\n`),
      stalled(post({ ...echo(0), body: 'x'.repeat(100) }).slice(0, -90)),
    ]);
    expect([postHead, getHead, postBody]).toEqual([NODE_408, NODE_408, NODE_408]);
  });

  it('9. closes a keep-alive connection idle past httpServer.keepAliveTimeout', async () => {
    const { proxy, wire, post, requests } = await startProxy();
    proxy.httpServer.keepAliveTimeout = 300;
    const socket = await wire();
    await socket.write(post(echo(1)));
    const answer = await socket.answer();
    const answeredAt = performance.now();
    // node:http states the timeout in whole seconds, rounded down.
    expect([answer.status, header(answer, 'Connection'), header(answer, 'Keep-Alive'), JSON.parse(answer.body)]).toEqual(['HTTP/1.1 200 OK', 'keep-alive', 'timeout=0', echoed(1)]);
    expect(await socket.rest()).toBe('');
    // node:http waits a second past keepAliveTimeout, so a client that trusts Keep-Alive never races the close (less a little for timers).
    expect(performance.now() - answeredAt).toBeGreaterThanOrEqual(300 + 1000 - 50);
    expect(requests()).toBe(0);
  });

  it('10. close() ends an idle connection and answers a call still waiting, and resolves', async () => {
    const { upstream, proxy, wire, post, requests } = await startProxy();
    const idle = await wire();
    await idle.write(post(echo(1)));
    expect(JSON.parse((await idle.answer()).body)).toEqual(echoed(1));
    const waiting = await wire();
    const arrived = nextUpstreamRequest(upstream);
    await waiting.write(post(call(2, 'sleep', { ms: 20_000 })));
    await arrived;

    await proxy.close();
    expect(await idle.rest()).toBe('');
    const answer = await waiting.answer();
    expect([answer.status, JSON.parse(answer.body)]).toEqual(['HTTP/1.1 200 OK', { jsonrpc: '2.0', id: 2, error: { code: -32000, message: 'Server shutting down' } }]);
    await waiting.closed;
    expect(requests()).toBe(0);
  });

  it('11. survives a client that leaves mid-answer, closing that request upstream, and answers the next', async () => {
    const { upstream, proxy, wire, post, requests } = await startProxy();
    const session = await rawSession(proxy.url, 'raw-2025');
    const leaving = await wire();
    const arrived = nextUpstreamRequest(upstream);
    await leaving.write(post(legacyCall(session, 1, 'sleep', { ms: 20_000 })));
    const { res } = await arrived;
    const upstreamGone = new Promise<void>((resolve) => res.once('close', () => resolve()));
    // The event stream's head comes at once; its one event only after the sleep.
    expect(await leaving.until('\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*content-type: text\/event-stream\r\n/);
    leaving.socket.destroy();
    await upstreamGone;

    const next = await wire();
    await next.write(post(echo(2)));
    const answer = await next.answer();
    expect([answer.status, JSON.parse(answer.body)]).toEqual(['HTTP/1.1 200 OK', echoed(2)]);
    // The session's initialize and notification, the call left, and the next: all on the fast path.
    expect(requests()).toBe(0);
  });
});
