import { describe, expect, it } from 'vitest';
import type { ClosedConnectionInfo, ConnectionInfo } from '../../src/core/types.js';
import type { MonitoredServer } from '../../src/server.js';
import { adminUrl, capturingLogger, getJson, postRaw, rawRequest, samples, scrape, useDemoServers, type ConnectedClient } from '../helpers.js';

const { demo, client, onCleanup } = useDemoServers();

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw-client', version: '9.9.9' } },
});

const FORBIDDEN = {
  jsonrpc: '2.0',
  error: { code: -32000, message: 'Forbidden: this Host or Origin is not allowed (see --allowed-hosts, --allowed-origins)' },
  id: null,
};

const HASHED = /^h:[0-9a-f]{16}$/;

const rejectedLines = async (server: MonitoredServer): Promise<string[]> =>
  samples(await scrape(server), 'mcp_server_requests_rejected_total').filter((line) => !line.endsWith(' 0'));

async function connections(server: MonitoredServer): Promise<ConnectionInfo[]> {
  const list = await getJson(adminUrl(server, '/api/mcp/connections'));
  expect(list.status).toBe(200);
  return (list.body as { connections: ConnectionInfo[] }).connections;
}

async function echo(c: ConnectedClient, text: string): Promise<void> {
  expect(await c.client.callTool({ name: 'echo', arguments: { text } })).toEqual({ content: [{ type: 'text', text }] });
}

describe('--trust-proxy: the client address behind a proxy', () => {
  const forwarded = { 'x-forwarded-for': '203.0.113.9, 10.1.1.1' };

  it('with only the socket peer trusted, the client is the rightmost hop', async () => {
    const server = await demo({ ipMasking: 'none', trustProxy: ['127.0.0.1'] });
    const c = await client(server.url, 'behind-proxy', forwarded);
    expect(server.tracker.getConnection(c.ref)?.clientIP).toBe('10.1.1.1');
    expect((await connections(server)).map((x) => x.clientIP)).toEqual(['10.1.1.1']);
  });

  it('with the inner proxy trusted too, the client is the hop left of it', async () => {
    const server = await demo({ ipMasking: 'none', trustProxy: ['127.0.0.1', '10.0.0.0/8'] });
    const c = await client(server.url, 'behind-proxy', forwarded);
    expect(server.tracker.getConnection(c.ref)?.clientIP).toBe('203.0.113.9');
  });

  it('without --trust-proxy, X-Forwarded-For is ignored', async () => {
    const server = await demo({ ipMasking: 'none' });
    const c = await client(server.url, 'behind-proxy', { ...forwarded, 'x-real-ip': '198.51.100.1' });
    expect(server.tracker.getConnection(c.ref)?.clientIP).toBe('127.0.0.1');
  });

  it('the forwarded address is masked like any other (truncate by default)', async () => {
    const server = await demo({ trustProxy: ['127.0.0.1', '10.0.0.0/8'] });
    const c = await client(server.url, 'behind-proxy', forwarded);
    expect(server.tracker.getConnection(c.ref)?.clientIP).toBe('203.0.113.0');
  });
});

describe('--ip-masking hash', () => {
  it('shows one h: token everywhere the address appears, never the address', async () => {
    const { logger, lines } = capturingLogger();
    const server = await demo({ ipMasking: 'hash', logger });

    const controller = new AbortController();
    onCleanup(async () => controller.abort());
    const stream = await fetch(adminUrl(server, '/api/mcp/connections/events'), { signal: controller.signal });
    expect(stream.status).toBe(200);
    const body = stream.body;
    if (!body) throw new Error('the event stream has no body');
    const reader = body.getReader();
    const decoder = new TextDecoder();
    // The first frame (the summary) is written at subscribe time: once it is here, the subscription is live.
    let streamText = '';
    while (!streamText.includes('\n\n')) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`event stream ended early: ${streamText}`);
      streamText += decoder.decode(value, { stream: true });
    }

    const c = await client(server.url, 'hashed');
    const established = /event: mcp_connection_established\ndata: (.*)\n\n/;
    let match = established.exec(streamText);
    while (!match) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`event stream ended before the established event: ${streamText}`);
      streamText += decoder.decode(value, { stream: true });
      match = established.exec(streamText);
    }
    controller.abort();
    const event = JSON.parse(match[1] ?? '') as ConnectionInfo;
    const token = event.clientIP;
    expect(token).toMatch(HASHED);
    expect(event.id).toBe(c.ref);

    const live = await connections(server);
    expect(live.map((x) => x.clientIP)).toEqual([token]);

    await c.transport.terminateSession();
    const history = await getJson(adminUrl(server, '/api/mcp/connections/history'));
    expect(history.status).toBe(200);
    const closed = (history.body as { connections: ClosedConnectionInfo[] }).connections;
    expect(closed.map((x) => [x.id, x.clientIP, x.reason])).toEqual([[c.ref, token, 'client_delete']]);

    const sessionLines = lines.filter((line) => line.includes('"event":"mcp_connection_'));
    expect(sessionLines).toHaveLength(2);
    expect(sessionLines[0]).toContain('"event":"mcp_connection_established"');
    expect(sessionLines[1]).toContain('"event":"mcp_connection_closed"');
    for (const line of sessionLines) expect(line).toContain(`"clientIP":"${token}"`);

    const everything = [
      streamText,
      JSON.stringify(live),
      JSON.stringify(history.body),
      lines.join('\n'),
      await scrape(server),
    ].join('\n');
    expect(everything).not.toContain('127.0.0.1');
    expect(everything).not.toContain('127.0.0.0');

    // One client address, one token: a second session from it gets the same.
    const again = await client(server.url, 'hashed-again');
    expect(server.tracker.getConnection(again.ref)?.clientIP).toBe(token);
  });
});

describe('what the server keeps of a request', () => {
  it('cuts a user agent longer than 256 characters to exactly 256', async () => {
    const server = await demo();
    const userAgent = `${'a'.repeat(200)}${'b'.repeat(300)}`;
    const c = await client(server.url, 'long-ua', { 'user-agent': userAgent });
    const info = server.tracker.getConnection(c.ref);
    expect(info?.userAgent).toBe(userAgent.slice(0, 256));
    expect(info?.userAgent).toHaveLength(256);
    expect((await connections(server))[0]?.userAgent).toBe(userAgent.slice(0, 256));
  });

  it('never shows a request header value: not in logs, the API, history or /metrics', async () => {
    const { logger, lines } = capturingLogger();
    const server = await demo({ logger });
    const received: (string | undefined)[] = [];
    server.httpServer.on('request', (req) => {
      if (req.url === '/mcp') received.push(`${req.headers.authorization ?? ''} ${req.headers.cookie ?? ''}`);
    });
    const secretHeaders = { authorization: 'Bearer SECRET123', cookie: 'sid=COOKIE456' };
    const a = await client(server.url, 'secretive', secretHeaders);
    const b = await client(server.url, 'secretive', secretHeaders);
    await echo(a, 'hello');
    // Also on a request the server refuses.
    const refused = await postRaw(server.url, '{"jsonrpc":', secretHeaders);
    expect(refused.status).toBe(400);
    await refused.text();
    await b.transport.terminateSession();

    // The headers did reach the server: the test would prove nothing otherwise.
    expect(received.length).toBeGreaterThanOrEqual(4);
    for (const seen of received) expect(seen).toBe('Bearer SECRET123 sid=COOKIE456');

    const list = await getJson(adminUrl(server, '/api/mcp/connections'));
    const history = await getJson(adminUrl(server, '/api/mcp/connections/history'));
    expect((list.body as { activeConnections: number }).activeConnections).toBe(1);
    expect((history.body as { connections: unknown[] }).connections).toHaveLength(1);
    const metrics = await scrape(server);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const [where, text] of [
      ['logs', lines.join('\n')],
      ['/api/mcp/connections', JSON.stringify(list.body)],
      ['/api/mcp/connections/history', JSON.stringify(history.body)],
      ['/metrics', metrics],
    ] as const) {
      expect({ where, secret: text.includes('SECRET123'), cookie: text.includes('COOKIE456') }).toEqual({ where, secret: false, cookie: false });
    }
  });
});

describe('--allowed-hosts and --allowed-origins', () => {
  it('refuses a Host not on the list with 403 before any session work, and counts forbidden_host', async () => {
    const server = await demo({ allowedHosts: ['localhost'] });
    const refused = await postRaw(`http://127.0.0.1:${server.port}/mcp`, INIT);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toBe('application/json');
    expect(await refused.json()).toEqual(FORBIDDEN);
    expect(server.tracker.totalCount).toBe(0);
    expect(await rejectedLines(server)).toEqual(['mcp_server_requests_rejected_total{reason="forbidden_host"} 1']);

    const ok = await client(`http://localhost:${server.port}/mcp`, 'via-localhost');
    await echo(ok, 'allowed');
    expect(server.tracker.getConnection(ok.ref)?.clientName).toBe('via-localhost');
    expect(await rejectedLines(server)).toEqual(['mcp_server_requests_rejected_total{reason="forbidden_host"} 1']);
  });

  it('guards the legacy SSE routes too', async () => {
    const server = await demo({ allowedHosts: ['localhost'] });
    const stream = await fetch(`http://127.0.0.1:${server.port}/sse`, { headers: { accept: 'text/event-stream' } });
    expect(stream.status).toBe(403);
    expect(await stream.json()).toEqual(FORBIDDEN);
    const message = await postRaw(`http://127.0.0.1:${server.port}/messages?sessionId=abc`, INIT);
    expect(message.status).toBe(403);
    expect(await message.json()).toEqual(FORBIDDEN);
    expect(server.tracker.totalCount).toBe(0);
    expect(await rejectedLines(server)).toEqual(['mcp_server_requests_rejected_total{reason="forbidden_host"} 2']);

    // Through an allowed Host the legacy stream opens.
    const controller = new AbortController();
    onCleanup(async () => controller.abort());
    const allowed = await fetch(`http://localhost:${server.port}/sse`, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('content-type')).toBe('text/event-stream');
    controller.abort();
  });

  it('refuses an Origin not on the list; accepts a listed one and none', async () => {
    const server = await demo({ allowedOrigins: ['https://ok.example'] });
    const evil = await postRaw(server.url, INIT, { origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(await evil.json()).toEqual(FORBIDDEN);
    expect(server.tracker.totalCount).toBe(0);

    const listed = await postRaw(server.url, INIT, { origin: 'https://ok.example' });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('mcp-session-id')).toMatch(/^[0-9a-f-]{36}$/);
    await listed.text();

    const none = await postRaw(server.url, INIT);
    expect(none.status).toBe(200);
    await none.text();

    const sdk = await client(server.url, 'origin-less');
    await echo(sdk, 'no origin');
    expect(server.tracker.activeCount).toBe(3);
    expect(await rejectedLines(server)).toEqual(['mcp_server_requests_rejected_total{reason="forbidden_host"} 1']);
  });
});

describe('--max-sessions', () => {
  it('answers 503 with Retry-After past the cap; open sessions go on; a freed slot is reused', async () => {
    const server = await demo({ maxSessions: 2 });
    const first = await client(server.url, 'first');
    const second = await client(server.url, 'second');

    const third = await postRaw(server.url, INIT);
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('5');
    expect(await third.json()).toEqual({
      jsonrpc: '2.0',
      error: { code: -32000, message: 'Too many sessions: this server holds at most 2; try again later' },
      id: null,
    });
    expect(await rejectedLines(server)).toEqual(['mcp_server_requests_rejected_total{reason="too_many_sessions"} 1']);
    expect([server.tracker.activeCount, server.tracker.totalCount]).toEqual([2, 2]);

    await echo(first, 'one');
    await echo(second, 'two');

    await first.transport.terminateSession();
    const fourth = await client(server.url, 'fourth');
    await echo(fourth, 'four');
    expect([server.tracker.activeCount, server.tracker.totalCount]).toEqual([2, 3]);
    expect(await rejectedLines(server)).toEqual(['mcp_server_requests_rejected_total{reason="too_many_sessions"} 1']);
  });

  it('an initialize sent as a notification (no id) opens no session and takes no slot', async () => {
    const server = await demo({ maxSessions: 2 });
    const notification = JSON.stringify({
      jsonrpc: '2.0',
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'ghost', version: '1' } },
    });
    for (let i = 0; i < 2; i++) {
      const res = await postRaw(server.url, notification);
      // Nobody is told a session id, so no session can be used or ended by a client...
      expect(res.headers.get('mcp-session-id')).toBeNull();
      await res.text();
    }
    // ...so none may be counted or kept: it would sit in a slot until the idle timeout.
    expect({ active: server.tracker.activeCount, total: server.tracker.totalCount }).toEqual({ active: 0, total: 0 });
    const real = await client(server.url, 'real');
    await echo(real, 'not locked out');
    await client(server.url, 'real-too');
    expect(server.tracker.activeCount).toBe(2);
  });
});

describe('--max-body-bytes', () => {
  const tooLarge = { jsonrpc: '2.0', error: { code: -32000, message: 'Payload too large: the limit is 2048 bytes' }, id: null };

  it('answers 413 for a body over the cap, however it is sent, and counts payload_too_large', async () => {
    const server = await demo({ maxBodyBytes: 2048 });
    const pad = 'x'.repeat(3000 - JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: '' } }).length);
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad } });
    expect(Buffer.byteLength(body)).toBe(3000);

    const sized = await postRaw(server.url, body);
    expect(sized.status).toBe(413);
    expect(await sized.json()).toEqual(tooLarge);

    // A declared Content-Length over the cap is refused before the body is read.
    const declared = await rawRequest(
      server.url,
      'POST',
      { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': '5000' },
      ['{"jsonrpc":"2.0"'],
    );
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toEqual(tooLarge);

    // A chunked body has no Content-Length: it is counted as it arrives.
    const chunked = await rawRequest(
      server.url,
      'POST',
      { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'transfer-encoding': 'chunked' },
      [body.slice(0, 1000), body.slice(1000, 2000), body.slice(2000)],
    );
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toEqual(tooLarge);

    expect(await rejectedLines(server)).toEqual(['mcp_server_requests_rejected_total{reason="payload_too_large"} 3']);

    // A body at the cap is fine.
    const c = await client(server.url, 'small-bodies');
    await echo(c, 'y'.repeat(1500));
  });
});

describe('--admin-port with --admin-token', () => {
  it('serves /metrics only on the admin port, only with the token', async () => {
    const server = await demo({ adminPort: 0, adminToken: 'adm1n-token' });
    expect(server.adminUrl).not.toBe(`http://127.0.0.1:${server.port}`);
    await client(server.url, 'alpha');

    const bare = await fetch(`${server.adminUrl}/metrics`);
    expect(bare.status).toBe(401);
    expect(await bare.json()).toEqual({ error: 'Unauthorized: send Authorization: Bearer <admin token>' });
    const wrong = await fetch(`${server.adminUrl}/metrics`, { headers: { authorization: 'Bearer adm1n-tokem' } });
    expect(wrong.status).toBe(401);
    await wrong.body?.cancel();
    const text = await scrape(server, { authorization: 'Bearer adm1n-token' });
    expect(samples(text, 'mcp_server_sessions_active')).toEqual([
      'mcp_server_sessions_active{transport="streamable_http",client_name="alpha"} 1',
    ]);
    expect(samples(text, 'mcp_server_requests_rejected_total')).toContain('mcp_server_requests_rejected_total{reason="unauthorized"} 2');
    const api = await getJson(`${server.adminUrl}/api/mcp/connections/count`, { headers: { authorization: 'Bearer adm1n-token' } });
    expect(api).toMatchObject({ status: 200, body: { activeConnections: 1 } });

    for (const path of ['/metrics', '/api/mcp/connections']) {
      for (const headers of [{}, { authorization: 'Bearer adm1n-token' }] as Record<string, string>[]) {
        const onMcpPort = await fetch(`http://127.0.0.1:${server.port}${path}`, { headers });
        expect(onMcpPort.status).toBe(404);
        expect(onMcpPort.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(await onMcpPort.json()).toEqual({ error: 'Not found' });
      }
    }
  });
});
