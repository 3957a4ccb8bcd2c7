import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createDemoServer } from '../../src/demo/demo-server.js';
import { startMonitoredServer } from '../../src/server.js';
import { headOnlyRequest, writeWebResponse } from '../../src/wire/fetch-bridge.js';
import { countWrites, postMessage, postRaw, rawSession, samples } from '../helpers.js';
import { useTestPeers } from '../peers.js';

const { defer, listen } = useTestPeers();

/** A listener whose requests `handle` answers. */
async function serving(handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<{ url: string; writes: () => number }> {
  const server = createServer((req, res) => void handle(req, res));
  const writes = countWrites(server);
  return { url: await listen(server), writes };
}

/** A listener that answers every request with an SSE stream made from `source`, through writeWebResponse. */
const streaming = (source: ConstructorParameters<typeof ReadableStream<Uint8Array>>[0]) =>
  serving((_req, res) => writeWebResponse(res, new Response(new ReadableStream<Uint8Array>(source), { headers: { 'content-type': 'text/event-stream' } })));

describe('headOnlyRequest', () => {
  it('is a Request whose method, URL and headers are made at once, and whose body is asked for only when read', async () => {
    const seen: unknown[] = [];
    let bodyAsked = 0;
    const { url } = await serving(async (req, res) => {
      const request = headOnlyRequest(req, () => {
        bodyAsked++;
        return '{"jsonrpc":"2.0","id":7}';
      }) as Request;
      seen.push(request instanceof Request, request.method, new URL(request.url).pathname, request.headers.get('x-client'), bodyAsked);
      seen.push(await request.clone().text(), await request.json(), request.bodyUsed, bodyAsked);
      res.end();
    });
    await fetch(`${url}/mcp?x=1`, { method: 'POST', headers: { 'x-client': 'c1' }, body: 'ignored' });
    expect(seen).toEqual([true, 'POST', '/mcp', 'c1', 0, '{"jsonrpc":"2.0","id":7}', { jsonrpc: '2.0', id: 7 }, true, 1]);
  });

  it('has no body for a GET', async () => {
    const seen: unknown[] = [];
    const { url } = await serving(async (req, res) => {
      const request = headOnlyRequest(req, () => 'never') as Request;
      seen.push(request.method, request.body, await request.text());
      res.end();
    });
    await fetch(`${url}/mcp`);
    expect(seen).toEqual(['GET', null, '']);
  });
});

describe('writeWebResponse', () => {
  it('writes an answer whose body is there at once in one write with its head', async () => {
    const { url, writes } = await serving((_req, res) => writeWebResponse(res, new Response('event: message\ndata: {}\n\n', { headers: { 'content-type': 'text/event-stream' } })));
    const answer = await fetch(url);
    expect([answer.status, answer.headers.get('content-type'), await answer.text(), writes()]).toEqual([200, 'text/event-stream', 'event: message\ndata: {}\n\n', 1]);
  });

  it('sends the head of a stream that has nothing to say yet, and the body when it comes', async () => {
    let speak = (): void => {};
    const { url } = await streaming({
      start(controller) {
        speak = () => {
          controller.enqueue(new TextEncoder().encode('data: late\n\n'));
          controller.close();
        };
      },
    });
    // The head arrives while the body has not begun: without it, this fetch would wait for the first event.
    const answer = await fetch(url);
    speak();
    expect([answer.status, await answer.text()]).toEqual([200, 'data: late\n\n']);
  });

  it('cancels the body when the client goes away', async () => {
    let cancelled: (why: unknown) => void = () => {};
    const cancel = new Promise((resolve) => (cancelled = resolve));
    const { url } = await streaming({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(': open\n\n'));
      },
      cancel: (why) => cancelled(why),
    });
    const abort = new AbortController();
    const answer = await fetch(url, { signal: abort.signal });
    const reader = answer.body?.getReader();
    expect(new TextDecoder().decode((await reader?.read())?.value)).toBe(': open\n\n');
    abort.abort();
    await cancel;
  });
});

describe('the hosted server on the SDK v1', () => {
  it('answers a tools/call of a 2025 session as an SSE stream, in one write', async () => {
    const server = await startMonitoredServer({ serverFactory: createDemoServer, port: 0, registry: new Registry() });
    defer(() => server.close());
    const writes = countWrites(server.httpServer);
    const headers = await rawSession(server.url, 'one-write');
    const before = writes();
    const answer = await postRaw(server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } }), headers);
    const text = await answer.text();
    expect([answer.status, answer.headers.get('content-type'), text, writes() - before]).toEqual([
      200,
      'text/event-stream',
      'event: message\ndata: {"result":{"content":[{"type":"text","text":"hi"}]},"jsonrpc":"2.0","id":1}\n\n',
      1,
    ]);
  });
});

describe('the hosted server on all interfaces, Host headers not checked', () => {
  it('refuses a Host header that names no host with a 400 and counts it, and serves one that does', async () => {
    const server = await startMonitoredServer({ serverFactory: createDemoServer, port: 0, host: '0.0.0.0', registry: new Registry() });
    defer(() => server.close());
    const url = `http://127.0.0.1:${server.port}/mcp`;
    const initialize = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'h', version: '1' } } });
    const answers = [];
    for (const host of ['a/b', 'bad host', 'x:99999', '[::1', 'Example.COM:8080', `[::1]:${server.port}`]) {
      const answer = await postMessage(url, initialize, { host });
      answers.push(`${host} ${answer.status} ${answer.status === 400 ? (JSON.parse(answer.body) as { error: { message: string } }).error.message : ''}`);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    expect(answers).toEqual([
      'a/b 400 Bad Request: the Host header is not a host name',
      'bad host 400 Bad Request: the Host header is not a host name',
      'x:99999 400 Bad Request: the Host header is not a host name',
      '[::1 400 Bad Request: the Host header is not a host name',
      'Example.COM:8080 200 ',
      `[::1]:${server.port} 200 `,
    ]);
    expect(samples(metrics, 'mcp_server_requests_rejected_total').filter((line) => !line.endsWith(' 0'))).toEqual(['mcp_server_requests_rejected_total{reason="invalid_request"} 4']);
  });
});
