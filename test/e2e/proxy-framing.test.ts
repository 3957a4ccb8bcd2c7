import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useCliProcesses, type CliProcess } from '../cli-process.js';
import { samples } from '../helpers.js';
import { useTestPeers } from '../peers.js';

const { start } = useCliProcesses();
const { defer } = useTestPeers();

const MODERN = '2026-07-28';
const envelope = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' } };
const call = (id: number, name: string, args: Record<string, unknown> = {}): string =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, _meta: envelope } });
/** A tool's result, with a character of two bytes in it. */
const result = (id: number): string => JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'é' }] } });
const sse = (id: number): string => `event: message\ndata: ${result(id)}\n\n`;

/**
 * A self-signed certificate for 127.0.0.1 (EC P-256, valid 100 years) and its key, for these
 * tests only: they guard nothing. Made once (CI machines may have no openssl) with
 * `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36525
 * -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout upstream-key.pem -out upstream-cert.pem`.
 */
const CERT = fileURLToPath(new URL('../fixtures/tls/upstream-cert.pem', import.meta.url));
const KEY = fileURLToPath(new URL('../fixtures/tls/upstream-key.pem', import.meta.url));

/** One tool call the upstream read: the connection it came on (see rawUpstream), its head (request line to CRLFCRLF) and body. */
interface Received {
  connection: number;
  tool: string;
  head: string;
  body: string;
}

/** How the upstream answers a tool: the exact bytes, written as it likes, on the request's socket. */
type Answer = (socket: Socket, id: number) => Promise<void>;

/** Writes `bytes` (a string as latin1: one char, one byte) and resolves once they are handed to the socket. */
const send = (socket: Socket, bytes: string): Promise<void> =>
  new Promise((resolve, reject) => socket.write(Buffer.from(bytes, 'latin1'), (error) => (error ? reject(error) : resolve())));

/** Writes `bytes` one byte per write, each once the one before was handed on. */
async function bytewise(socket: Socket, bytes: string): Promise<void> {
  for (const byte of bytes) await send(socket, byte);
}

/** A text's UTF-8 bytes as a latin1 string, to be put in an answer written byte for byte. */
const bytesOf = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

/** A JSON answer framed by Content-Length, `extra` head lines (each ending in CRLF) before it. */
const jsonAnswer = (body: string, extra = ''): string =>
  `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${bytesOf(body)}`;

/**
 * An MCP upstream written on bare TCP (or TLS), to send the proxy exactly the bytes a case
 * needs: it reads each request off its connection (the head up to CRLFCRLF, then
 * Content-Length bytes), answers a tools/call with what `answers` has for its tool, and
 * anything else (the proxy's own server/discover and probe at start) with a JSON-RPC error.
 * A connection is numbered when it carries its first tool call (1, 2, ...), so the proxy's
 * start-up requests, on connections of their own, do not shift the count.
 */
async function rawUpstream(answers: Record<string, Answer>, tls = false) {
  const received: Received[] = [];
  /** By connection number: resolves when that connection has closed. */
  const closed = new Map<number, Promise<void>>();
  const sockets = new Set<Socket>();
  let numbered = 0;

  const serve = (socket: Socket): void => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    let gone: () => void = () => {};
    const end = new Promise<void>((resolve) => (gone = resolve));
    socket.once('close', () => {
      sockets.delete(socket);
      gone();
    });
    let number = 0;
    let buffer = Buffer.alloc(0);
    let busy = false;
    const next = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        for (;;) {
          const eoh = buffer.indexOf('\r\n\r\n');
          if (eoh < 0) return;
          const head = buffer.toString('latin1', 0, eoh + 4);
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (buffer.length < eoh + 4 + length) return;
          const body = buffer.toString('utf8', eoh + 4, eoh + 4 + length);
          buffer = buffer.subarray(eoh + 4 + length);
          let message: { id?: number; method?: string; params?: { name?: string } } = {};
          try {
            message = JSON.parse(body) as typeof message;
          } catch {
            // No JSON body (a DELETE, say): answered as any other request that is not a tool call.
          }
          const tool = message.method === 'tools/call' ? message.params?.name : undefined;
          const answer = tool === undefined ? undefined : answers[tool];
          if (tool === undefined || answer === undefined) {
            await send(socket, jsonAnswer(JSON.stringify({ jsonrpc: '2.0', id: message.id ?? null, error: { code: -32601, message: 'Method not found' } })));
            continue;
          }
          if (number === 0) {
            number = ++numbered;
            closed.set(number, end);
          }
          received.push({ connection: number, tool, head, body });
          await answer(socket, message.id as number);
        }
      } catch {
        socket.destroy();
      } finally {
        busy = false;
      }
    };
    socket.on('data', (data: Buffer) => {
      buffer = Buffer.concat([buffer, data]);
      void next();
    });
  };

  const server: Server = tls ? createTlsServer({ cert: readFileSync(CERT), key: readFileSync(KEY) }, serve) : createTcpServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  );
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/mcp`,
    received,
    /** The connection each tool call came on, in order. */
    connections: (): number[] => received.map((r) => r.connection),
    /** Resolves once connection `number` has closed (whichever side closed it). */
    closed: (number: number): Promise<void> => closed.get(number) ?? Promise.reject(new Error(`no connection ${number}`)),
  };
}

interface Answered {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
  trailers: IncomingMessage['trailers'];
  /** The 1xx answers the client was shown. */
  interim: number[];
  /** The error that ended the answer, when one did. */
  error?: string;
}

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN };

/**
 * A POST through the proxy by node:http's client: status, headers, the body's exact text (or
 * the error that ended it). `headers` replace the usual ones (flat name, value pairs are sent
 * as they are, with no Host or Content-Length added); a body in parts is written part by part.
 */
function post(url: string, body: string | Buffer[], headers: OutgoingHttpHeaders | string[] = HEADERS): Promise<Answered> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', headers });
    const interim: number[] = [];
    req.on('information', (info) => interim.push(info.statusCode));
    req.on('response', (res) => {
      let text = '';
      const answered = (error?: Error): void =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, trailers: res.trailers, interim, ...(error ? { error: (error as NodeJS.ErrnoException).code ?? error.message } : {}) });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => answered());
      res.on('error', answered);
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, headers: {}, text: '', trailers: {}, interim, error: error.code ?? error.message }));
    for (const part of typeof body === 'string' ? [body] : body) req.write(part);
    req.end();
  });
}

/** Writes `bytes` in slices of 7,777 bytes, each once the socket takes more; `blocked` is called at the first that has to wait (back-pressure). */
async function pour(socket: Socket, bytes: Buffer, blocked: () => void = () => {}): Promise<void> {
  let waited = false;
  for (let at = 0; at < bytes.length; at += 7777) {
    if (socket.write(bytes.subarray(at, at + 7777))) continue;
    if (!waited) blocked();
    waited = true;
    await once(socket, 'drain');
  }
}

/**
 * A chunked answer the upstream writes until the proxy stops taking it (a write that has to
 * wait: back-pressure, once the client stopped reading), then 50 pieces more and `tail`: its
 * body is `piece(0) + piece(1) + ... + tail`, in chunks of 7,777 bytes cut wherever that
 * falls (inside an event, inside a two-byte character). `blocked` is called at the first
 * wait; resolves with the body's text.
 */
async function flood(socket: Socket, head: string, piece: (i: number) => string, tail: string, blocked: () => void): Promise<string> {
  await send(socket, head);
  let text = '';
  let waited = false;
  let pending = Buffer.alloc(0);
  const take = async (part: string, all: boolean): Promise<void> => {
    text += part;
    pending = Buffer.concat([pending, Buffer.from(part, 'utf8')]);
    while (pending.length >= (all ? 1 : 7777)) {
      const bytes = pending.subarray(0, 7777);
      pending = pending.subarray(bytes.length);
      await pour(socket, Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]), () => {
        if (!waited) blocked();
        waited = true;
      });
    }
  };
  for (let i = 0, after = 0; !waited || after++ < 50; i++) await take(piece(i), false);
  await take(tail, true);
  await send(socket, '0\r\n\r\n');
  return text;
}

/** A progress event of a long tool call, with two-byte characters. */
const progress = (i: number): string =>
  `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 't', progress: i, message: `étape ${i} ${'é'.repeat(i % 97)}` } })}\n\n`;

/**
 * A POST through the proxy whose answer is not read until `reading` resolves; the body's text
 * (UTF-8) once it ended. `chunked`: the body is sent chunked, which the front door leaves to
 * node:http.
 */
function postHeld(url: string, body: string, reading: Promise<unknown>, chunked = false): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: HEADERS });
    if (chunked) req.write(body.slice(0, 10));
    req.on('response', (res) => {
      res.pause();
      const parts: Buffer[] = [];
      void reading.then(() => {
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
        res.resume();
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(chunked ? body.slice(10) : body);
  });
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The JSON-RPC error body of the proxy's 502 for `upstream`, with the reason it gives. */
const badGateway = (upstream: string, reason: string): unknown => ({
  jsonrpc: '2.0',
  id: null,
  error: { code: -32000, message: `Bad Gateway: the upstream MCP server at ${upstream} did not answer (${reason})` },
});

const metrics = async (proxy: CliProcess): Promise<string> => (await fetch(`${proxy.adminUrl}/metrics`)).text();
const operation = (tool: string, errorType: string, count: number): string =>
  `mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="${tool}",error_type="${errorType}",mcp_protocol_version="${MODERN}"} ${count}`;
/** The upstream failure counters, each reason at `counts[reason]` or 0. */
const failures = (counts: Record<string, number>): string[] =>
  ['connection_refused', 'timeout', 'connection_reset', 'unreachable', 'server_error', 'start_failed', 'child_exited'].map(
    (reason) => `mcp_exporter_upstream_failures_total{reason="${reason}"} ${counts[reason] ?? 0}`,
  );

describe('proxy --upstream reads the upstream\'s HTTP/1.1 answers with its own parser', () => {
  it('relays each framing exactly: chunked one byte per write (extensions, trailers), Content-Length (after a 103), until the close', async () => {
    const upstream = await rawUpstream({
      // Chunks of 5 bytes with an extension, and the rest (its size in upper-case hex), then a trailer.
      'chunked-bytes': (socket, id) => {
        const body = bytesOf(sse(id));
        const rest = body.slice(5);
        return bytewise(
          socket,
          `HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nX-Upstream: raw\r\n\r\n` +
            `5;ext=1\r\n${body.slice(0, 5)}\r\n${rest.length.toString(16).toUpperCase()}\r\n${rest}\r\n0\r\nX-T: 1\r\n\r\n`,
        );
      },
      length: (socket, id) => send(socket, jsonAnswer(result(id))),
      'early-hints': async (socket, id) => {
        await send(socket, 'HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n');
        await send(socket, jsonAnswer(result(id)));
      },
      'until-close': async (socket, id) => {
        await send(socket, `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n${bytesOf(result(id))}`);
        socket.end();
      },
    });
    const proxy = await start(['proxy', '--upstream', upstream.url]);

    const chunked = await post(proxy.url, call(1, 'chunked-bytes'));
    expect([chunked.status, chunked.headers['content-type'], chunked.headers['x-upstream'], chunked.text, chunked.error]).toEqual([200, 'text/event-stream', 'raw', sse(1), undefined]);
    // The trailer ends the body; it is neither body nor header nor trailer for the client.
    expect([chunked.headers['x-t'], chunked.trailers]).toEqual([undefined, {}]);

    const length = await post(proxy.url, call(2, 'length'));
    expect([length.status, length.headers['content-type'], length.headers['content-length'], length.text]).toEqual([200, 'application/json', String(Buffer.byteLength(result(2))), result(2)]);

    const hints = await post(proxy.url, call(3, 'early-hints'));
    expect([hints.status, hints.interim, hints.headers.link, hints.text]).toEqual([200, [], undefined, result(3)]);

    const untilClose = await post(proxy.url, call(4, 'until-close'));
    expect([untilClose.status, untilClose.headers['content-type'], untilClose.text, untilClose.error]).toEqual([200, 'application/json', result(4), undefined]);

    // All four on the connection the first opened, which the last closed; the next call opens another.
    await upstream.closed(1);
    const after = await post(proxy.url, call(5, 'length'));
    expect([after.status, after.text]).toEqual([200, result(5)]);
    expect(upstream.connections()).toEqual([1, 1, 1, 1, 2]);

    // Each call answered with a result: its tool is learnt and counted, with no error, and the upstream never failed.
    const text = await metrics(proxy);
    expect(samples(text, 'mcp_server_operation_duration_seconds_count')).toEqual([
      operation('chunked-bytes', '', 1),
      operation('length', '', 2),
      operation('early-hints', '', 1),
      operation('until-close', '', 1),
    ]);
    expect(samples(text, 'mcp_server_client_requests_total')).toEqual([`mcp_server_client_requests_total{client_name="raw",mcp_protocol_version="${MODERN}"} 5`]);
    expect(samples(text, 'mcp_exporter_upstream_up')).toEqual(['mcp_exporter_upstream_up 1']);
    expect(samples(text, 'mcp_exporter_upstream_failures_total')).toEqual(failures({}));
  });

  it('keeps one connection while the upstream keeps it, and opens a new one after an answer that says close or keeps it only a second', async () => {
    const upstream = await rawUpstream({
      keep: (socket, id) => send(socket, jsonAnswer(result(id), 'Connection: keep-alive\r\nKeep-Alive: timeout=5, max=100\r\n')),
      // The upstream says close but leaves the connection open: closing it is the proxy's part.
      close: (socket, id) => send(socket, jsonAnswer(result(id), 'Connection: close\r\n')),
      // Kept a second, less the proxy's margin of a second: not reused.
      second: (socket, id) => send(socket, jsonAnswer(result(id), 'Keep-Alive: timeout=1\r\n')),
    });
    const proxy = await start(['proxy', '--upstream', upstream.url]);
    let id = 0;
    const through = async (tool: string): Promise<Answered> => {
      const answer = await post(proxy.url, call(++id, tool));
      expect([answer.status, answer.text]).toEqual([200, result(id)]);
      return answer;
    };

    for (let i = 0; i < 3; i++) await through('keep');
    expect(upstream.connections()).toEqual([1, 1, 1]);

    // The first close goes on the kept connection; each answer's connection is closed by the proxy, and the next call opens one.
    for (let n = 1; n <= 3; n++) {
      const answer = await through('close');
      // The upstream's Connection and Keep-Alive are its hop's: the client sees the proxy's own.
      expect([answer.headers.connection, answer.headers['keep-alive']]).toEqual(['keep-alive', 'timeout=5']);
      await upstream.closed(n);
    }
    expect(upstream.connections()).toEqual([1, 1, 1, 1, 2, 3]);

    await through('second');
    await through('second');
    await through('keep');
    await through('keep');
    await upstream.closed(5);
    expect(upstream.connections()).toEqual([1, 1, 1, 1, 2, 3, 4, 5, 6, 6]);
  });

  it('sends the upstream its own Host, identity encoding and the body\'s length, and none of the client\'s hop headers', async () => {
    const upstream = await rawUpstream({ echo: (socket, id) => send(socket, jsonAnswer(result(id))) });
    const proxy = await start(['proxy', '--upstream', upstream.url]);
    const proxyHost = new URL(proxy.url).host;

    // A client head written as it goes on the wire, the body chunked in two writes that cut the é's two bytes apart.
    const body = call(1, 'echo', { text: 'héllo' });
    const bytes = Buffer.from(body);
    const cut = bytes.indexOf(Buffer.from('é')) + 1;
    const chunked = await post(proxy.url, [bytes.subarray(0, cut), bytes.subarray(cut)], [
      'Host', proxyHost,
      'Content-Type', 'application/json',
      'Accept', 'application/json, text/event-stream',
      'MCP-Protocol-Version', MODERN,
      'Connection', 'keep-alive',
      'Keep-Alive', 'timeout=30',
      'Accept-Encoding', 'gzip, br',
      'TE', 'trailers',
      'X-Trace', 'abc',
      'Transfer-Encoding', 'chunked',
    ]);
    expect([chunked.status, chunked.text]).toEqual([200, result(1)]);

    // node:http's usual head: Host and Content-Length of its own.
    const plain = await post(proxy.url, call(2, 'echo'), { ...HEADERS, connection: 'keep-alive' });
    expect([plain.status, plain.text]).toEqual([200, result(2)]);

    const [first, second] = upstream.received;
    expect(first?.head).toMatch(/^POST \/mcp HTTP\/1\.1\r\n/);
    expect(first?.head).not.toMatch(/transfer-encoding|connection|keep-alive|\r\nte:/i);
    expect(first?.head).not.toContain(proxyHost);
    expect(Buffer.byteLength(body)).toBe(body.length + 1);
    // Exactly: the proxy's lines, then the client's end-to-end headers as they came, then the body's length in bytes.
    expect(first?.head).toBe(
      `POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:${upstream.port}\r\naccept-encoding: identity\r\n` +
        `Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: ${MODERN}\r\nX-Trace: abc\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n`,
    );
    expect(first?.body).toBe(body);
    expect(second?.head).toBe(
      `POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:${upstream.port}\r\naccept-encoding: identity\r\n` +
        `content-type: application/json\r\naccept: application/json, text/event-stream\r\nmcp-protocol-version: ${MODERN}\r\n` +
        `content-length: ${Buffer.byteLength(call(2, 'echo'))}\r\n\r\n`,
    );
    expect(second?.body).toBe(call(2, 'echo'));
    expect(upstream.connections()).toEqual([1, 1]);
  });

  it('answers 502 for framing it will not guess at, closes that connection, and keeps serving', async () => {
    const upstream = await rawUpstream({
      ok: (socket, id) => send(socket, jsonAnswer(result(id))),
      'both-framings': (socket, id) =>
        send(socket, `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n${result(id).length.toString(16)}\r\n${result(id)}\r\n0\r\n\r\n`),
      'bad-status': (socket, id) => send(socket, jsonAnswer(result(id)).replace('HTTP/1.1 200 OK', 'HTTP/1.1 2x0 OK')),
      folded: (socket, id) => send(socket, jsonAnswer(result(id), 'X-Folded: a\r\n  b\r\n')),
      'control-char': (socket, id) => send(socket, jsonAnswer(result(id), 'X-Bad: a\u0001b\r\n')),
    });
    const proxy = await start(['proxy', '--upstream', upstream.url]);
    let id = 0;
    const ok = async (): Promise<void> => {
      const answer = await post(proxy.url, call(++id, 'ok'));
      expect([answer.status, answer.text]).toEqual([200, result(id)]);
    };

    const refused: [string, string][] = [
      ['both-framings', 'HPE_INVALID_RESPONSE'],
      ['bad-status', 'HPE_INVALID_RESPONSE'],
      ['folded', 'HPE_INVALID_RESPONSE'],
      // A header no HTTP/1.1 server may send (nor node:http write to the client): refused as it is read.
      ['control-char', 'HPE_INVALID_RESPONSE'],
    ];
    for (const [n, [tool, reason]] of refused.entries()) {
      await ok();
      const answer = await post(proxy.url, call(++id, tool));
      expect([tool, answer.status, answer.headers['content-type'], JSON.parse(answer.text)]).toEqual([tool, 502, 'application/json', badGateway(upstream.url, reason)]);
      await upstream.closed(n + 1);
    }
    await ok();
    expect(upstream.connections()).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5]);

    // The 502s are errors of the server (-32000) of tools never learnt; each counts as the upstream unreachable, until the next answer.
    const text = await metrics(proxy);
    expect(samples(text, 'mcp_server_operation_duration_seconds_count')).toEqual([operation('ok', '', 5), operation('other', '-32000', 4)]);
    expect(samples(text, 'mcp_exporter_upstream_failures_total')).toEqual(failures({ unreachable: 4 }));
    expect(samples(text, 'mcp_exporter_upstream_up')).toEqual(['mcp_exporter_upstream_up 1']);
  });

  it('cuts the client\'s answer where the upstream cut its own', async () => {
    const upstream = await rawUpstream({
      ok: (socket, id) => send(socket, jsonAnswer(result(id))),
      cut: async (socket) => {
        await send(socket, 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"jsonrpc"');
        socket.destroy();
      },
    });
    const proxy = await start(['proxy', '--upstream', upstream.url]);

    const cut = await post(proxy.url, call(1, 'cut'));
    expect([cut.status, cut.headers['content-length'], cut.text, cut.error]).toEqual([200, '100', '{"jsonrpc"', 'ECONNRESET']);
    const after = await post(proxy.url, call(2, 'ok'));
    expect([after.status, after.text]).toEqual([200, result(2)]);
    expect(upstream.connections()).toEqual([1, 2]);

    const text = await metrics(proxy);
    // The cut call ends as _OTHER (its tool unconfirmed: no result named it), as a cut event stream does.
    expect(samples(text, 'mcp_server_operation_duration_seconds_count')).toEqual([operation('other', '_OTHER', 1), operation('ok', '', 1)]);
    expect(samples(text, 'mcp_server_client_requests_total')).toEqual([`mcp_server_client_requests_total{client_name="raw",mcp_protocol_version="${MODERN}"} 2`]);
    expect(samples(text, 'mcp_exporter_upstream_failures_total')).toEqual(failures({ connection_reset: 1 }));
    expect(samples(text, 'mcp_exporter_upstream_up')).toEqual(['mcp_exporter_upstream_up 1']);
  });

  it('relays long answers exactly while their clients do not read, and another meanwhile, and reads each outcome', async () => {
    // Two answers far longer than what the sockets between hold, each on its connection: the
    // proxy stops reading each while its client waits, with bytes still to send. A third
    // answer is read meanwhile, its reads taking turns with theirs. An event stream framed in
    // chunks until it blocks, asked with a chunked body (node:http's path); a JSON answer of
    // 32 MiB framed by its Content-Length (the front door's).
    let streamBlocked: () => void = () => {};
    let lengthBlocked: () => void = () => {};
    const blocked = Promise.all([new Promise<void>((resolve) => (streamBlocked = resolve)), new Promise<void>((resolve) => (lengthBlocked = resolve))]);
    const sent: Record<string, string> = {};
    const upstream = await rawUpstream({
      stream: async (socket, id) => {
        sent.stream = await flood(socket, 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n', progress, sse(id), streamBlocked);
      },
      'json-length': async (socket, id) => {
        let filler = '';
        for (let i = 0; filler.length < 32 * 1024 * 1024; i++) filler += `ligne ${i} ${'é'.repeat(i % 89)} `;
        const body = `{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":"${filler}"}],"isError":true}}`;
        sent.length = body;
        await send(socket, `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
        await pour(socket, Buffer.from(body, 'utf8'), lengthBlocked);
      },
      meanwhile: async (socket, id) => {
        const body = `${Array.from({ length: 3000 }, (_, i) => progress(i)).join('')}${sse(id)}`;
        sent.meanwhile = body;
        await send(socket, 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
        await pour(socket, Buffer.from(`${Buffer.byteLength(body).toString(16)}\r\n${bytesOf(body)}\r\n0\r\n\r\n`, 'latin1'));
      },
    });
    const proxy = await start(['proxy', '--upstream', upstream.url]);

    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const streamed = postHeld(proxy.url, call(1, 'stream'), released, true);
    const length = postHeld(proxy.url, call(2, 'json-length'), released);
    await blocked;
    const meanwhile = await postHeld(proxy.url, call(3, 'meanwhile'), Promise.resolve());
    release();
    const [a, b] = await Promise.all([streamed, length]);
    const same = (answer: { status: number; text: string }, text: string | undefined): void =>
      expect([answer.status, answer.text.length, sha(answer.text)]).toEqual([200, (text as string).length, sha(text as string)]);
    same(a, sent.stream);
    same(b, sent.length);
    same(meanwhile, sent.meanwhile);
    expect(upstream.connections().sort()).toEqual([1, 2, 3]);

    // Each outcome read as its answer passed: the stream's result after thousands of events,
    // the JSON's at the very end of the 32 MiB the monitor kept whole (a tool error leaves its
    // tool unconfirmed: "other").
    const text = await metrics(proxy);
    expect(samples(text, 'mcp_server_operation_duration_seconds_count').sort()).toEqual([operation('meanwhile', '', 1), operation('other', 'tool_error', 1), operation('stream', '', 1)]);
    expect(samples(text, 'mcp_exporter_upstream_failures_total')).toEqual(failures({}));
  });

  it('relays to an HTTPS upstream whose certificate it trusts, and answers 502 naming the certificate error when it does not', async () => {
    const upstream = await rawUpstream({ tls: (socket, id) => send(socket, jsonAnswer(result(id))) }, true);

    const trusting = await start(['proxy', '--upstream', upstream.url], { NODE_EXTRA_CA_CERTS: CERT });
    const answer = await post(trusting.url, call(1, 'tls'));
    expect([answer.status, answer.text]).toEqual([200, result(1)]);
    expect(upstream.received.map((r) => r.head.split('\r\n')[1])).toEqual([`host: 127.0.0.1:${upstream.port}`]);

    const doubting = await start(['proxy', '--upstream', upstream.url]);
    const refused = await post(doubting.url, call(2, 'tls'));
    expect([refused.status, JSON.parse(refused.text)]).toEqual([502, badGateway(upstream.url, 'DEPTH_ZERO_SELF_SIGNED_CERT')]);
    expect(upstream.connections()).toEqual([1]);
  });
});
