import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { sessionRef } from '../../src/core/session-ref.js';
import type { ConnectionInfo } from '../../src/core/types.js';
import { httpUpstreamFactory } from '../../src/proxy/relay-bridge.js';
import type { MonitoredServer } from '../../src/server.js';
import { useCliProcesses } from '../cli-process.js';
import { adminUrl, capturingLogger, getJson, openSseStream, postMessage, postRaw, rawRequest, samples, scrape, useDemoServers } from '../helpers.js';

const { demo, client, onCleanup } = useDemoServers();
const { start } = useCliProcesses();

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw-client', version: '1' } },
});
const CALL = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } });
const FORBIDDEN = {
  jsonrpc: '2.0',
  error: { code: -32000, message: 'Forbidden: this Host or Origin is not allowed (see --allowed-hosts, --allowed-origins)' },
  id: null,
};
const NOT_FOUND = { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found: start a new session with an initialize request' }, id: null };

const rejected = async (server: MonitoredServer): Promise<string[]> =>
  samples(await scrape(server), 'mcp_server_requests_rejected_total').filter((line) => !line.endsWith(' 0'));

/** Every string in a JSON value, keys and values, depth first. */
function strings(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') out.add(value);
  else if (Array.isArray(value)) for (const item of value) strings(item, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      out.add(key);
      strings(item, out);
    }
  }
  return out;
}

/** The response headers a browser reads for CORS, as one object (absent ones left out). */
function corsHeaders(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of res.headers) if (name.startsWith('access-control-') || name === 'vary') out[name] = value;
  return out;
}

describe('no credential leaves the server', () => {
  it('names sessions by a reference that no route takes as a session id, in every admin answer, event and log line', async () => {
    const { logger, lines } = capturingLogger();
    const server = await demo({ logger, eventsSummaryIntervalMs: 20 });
    const controller = new AbortController();
    onCleanup(async () => controller.abort());
    const events = await fetch(adminUrl(server, '/api/mcp/connections/events'), { signal: controller.signal });
    const reader = events.body?.getReader();
    if (!reader) throw new Error('no event stream');
    let eventText = '';
    const readEvents = async (until: (text: string) => boolean): Promise<void> => {
      while (!until(eventText)) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`the event stream ended: ${eventText}`);
        eventText += new TextDecoder().decode(value);
      }
    };
    await readEvents((text) => text.includes('mcp_connections_data'));

    // A Streamable HTTP session that stays, one that ends, and a legacy SSE session.
    const live = await client(server, 'ref-live');
    const ended = await client(server, 'ref-ended');
    await ended.transport.terminateSession();
    const sse = await openSseStream(server.url.replace(/\/mcp$/, '/sse'));
    onCleanup(async () => sse.close());
    const initSse = await postRaw(sse.messagesUrl, INIT);
    expect(initSse.status).toBe(202);
    await initSse.text();
    await sse.until('"result"');
    const sseRef = sessionRef(sse.sessionId);
    await readEvents((text) => text.split('mcp_connection_established').length === 4 && text.includes('mcp_connection_closed'));

    // What an operator sees.
    const answers: unknown[] = [];
    for (const path of ['/connections', '/connections/count', '/connections/history', '/status', '/health', '/tools', `/connections/${live.ref}`, `/connections/${sseRef}`]) {
      const answer = await getJson(adminUrl(server, `/api/mcp${path}`));
      expect({ path, status: answer.status }).toEqual({ path, status: 200 });
      answers.push(answer.body);
    }
    const list = answers[0] as { connections: ConnectionInfo[] };
    expect(list.connections.map((c) => [c.clientName, c.id]).sort()).toEqual(
      [
        ['ref-live', live.ref],
        ['raw-client', sseRef],
      ].sort(),
    );
    expect((answers[2] as { connections: ConnectionInfo[] }).connections.map((c) => c.id)).toEqual([ended.ref]);
    // The log names each session by the same reference as the API.
    const logged = lines.filter((line) => line.includes('"event":"mcp_connection_'));
    expect(logged.map((line) => /"session":"([0-9a-f]{12})"/.exec(line)?.[1]).sort()).toEqual([live.ref, ended.ref, ended.ref, sseRef].sort());

    const everything = [JSON.stringify(answers), eventText, lines.join('\n'), await scrape(server)].join('\n');
    for (const id of [live.sessionId, ended.sessionId, sse.sessionId]) expect(everything).not.toContain(id);

    // Every string any of them shows, tried as a session id on both transports: none works.
    const candidates = new Set([...strings(answers), ...strings(lines.map((line) => JSON.parse(line.slice(line.indexOf('{'))) as unknown))]);
    for (const frame of eventText.split('\n')) if (frame.startsWith('data: ')) strings(JSON.parse(frame.slice(6)) as unknown, candidates);
    const tried = [...candidates].filter((value) => /^[\x21-\x7e]+$/.test(value));
    expect(tried).toContain(live.ref);
    expect(tried).toContain(sseRef);
    for (const value of tried) {
      const viaHeader = await postRaw(server.url, CALL, { 'mcp-session-id': value, 'mcp-protocol-version': '2025-06-18' });
      expect({ value, status: viaHeader.status, body: await viaHeader.json() }).toEqual({ value, status: 404, body: NOT_FOUND });
      const viaQuery = await postRaw(`${server.url.replace(/\/mcp$/, '/messages')}?sessionId=${encodeURIComponent(value)}`, CALL);
      expect({ value, status: viaQuery.status }).toEqual({ value, status: 404 });
      await viaQuery.text();
    }
    // The real ids still work: the 404s above are not a server that refuses everything.
    expect(await live.client.callTool({ name: 'echo', arguments: { text: 'still here' } })).toEqual({ content: [{ type: 'text', text: 'still here' }] });
    const viaRealQuery = await postRaw(sse.messagesUrl, CALL);
    expect(viaRealQuery.status).toBe(202);
    await viaRealQuery.text();
  });

  it('answers an unknown reference with 404 naming what was asked, cut to 64 characters', async () => {
    const server = await demo();
    const long = 'x'.repeat(500);
    expect(await getJson(adminUrl(server, `/api/mcp/connections/${long}`))).toEqual({
      status: 404,
      body: { error: 'Connection not found', id: 'x'.repeat(64) },
    });
  });
});

describe('DNS-rebinding protection by default', () => {
  it('bound to loopback, refuses a foreign Host or Origin with 403 before any session work', async () => {
    const server = await demo();
    const port = server.port;
    const refused: Record<string, string>[] = [{ host: `evil.example:${port}` }, { host: 'evil.example' }, { origin: 'http://evil.example' }, { origin: 'null' }];
    for (const headers of refused) {
      const res = await postMessage(server.url, INIT, headers);
      expect({ headers, status: res.status, body: JSON.parse(res.body) as unknown }).toEqual({ headers, status: 403, body: FORBIDDEN });
    }
    const sse = await rawRequest(server.url.replace(/\/mcp$/, '/sse'), 'GET', { host: 'evil.example' }, []);
    expect(sse.status).toBe(403);
    expect(server.tracker.totalCount).toBe(0);
    expect(await rejected(server)).toEqual(['mcp_server_requests_rejected_total{reason="forbidden_host"} 5']);
  });

  it('bound to loopback, takes loopback names on any port and loopback origins', async () => {
    const server = await demo();
    const accepted: Record<string, string>[] = [
      { host: `localhost:${server.port}` },
      { host: `127.0.0.1:${server.port}` },
      { host: '[::1]:8080' },
      { host: 'LOCALHOST' },
      { host: `localhost:${server.port}`, origin: 'http://localhost:5173' },
      { host: `localhost:${server.port}`, origin: 'https://127.0.0.1' },
    ];
    for (const headers of accepted) {
      const res = await postMessage(server.url, INIT, headers);
      expect({ headers, status: res.status }).toEqual({ headers, status: 200 });
    }
    expect(server.tracker.totalCount).toBe(accepted.length);
    expect(await rejected(server)).toEqual([]);
  });

  it('bound to a wildcard address, takes any Host and says so in one warn line at start', async () => {
    const { logger, lines } = capturingLogger();
    const server = await demo({ host: '0.0.0.0', logger });
    expect(lines).toEqual([
      'warn Host headers are not checked on 0.0.0.0: set --allowed-hosts (allowedHosts) to the names clients use, e.g. mcp.example.com, to block DNS rebinding {"event":"host_check_off","host":"0.0.0.0"}',
    ]);
    const res = await postMessage(`http://127.0.0.1:${server.port}/mcp`, INIT, { host: 'evil.example' });
    expect(res.status).toBe(200);
    const listed = await demo({ host: '0.0.0.0', allowedHosts: ['mcp.example.com'], logger: capturingLogger().logger });
    const refused = await postMessage(`http://127.0.0.1:${listed.port}/mcp`, INIT, { host: 'evil.example' });
    expect(refused.status).toBe(403);
    const named = await postMessage(`http://127.0.0.1:${listed.port}/mcp`, INIT, { host: 'mcp.example.com' });
    expect(named.status).toBe(200);
  });

  it('the proxy checks the client Host itself: a refused request never reaches the upstream', async () => {
    const upstream = await demo();
    const proxy = await demo({ serverFactory: httpUpstreamFactory(new URL(upstream.url), capturingLogger().logger) });
    const before = upstream.tracker.totalCount; // the proxy listed the upstream's tools at start
    const res = await postMessage(proxy.url, INIT, { host: 'evil.example' });
    expect(res.status).toBe(403);
    expect(upstream.tracker.totalCount).toBe(before);
    const ok = await client(proxy, 'through-proxy');
    expect(await ok.client.callTool({ name: 'echo', arguments: { text: 'ok' } })).toEqual({ content: [{ type: 'text', text: 'ok' }] });
    expect(upstream.tracker.totalCount).toBe(before + 1);
  });

  it('mcp-exporter serve and proxy refuse a foreign Host by default', async () => {
    const serve = await start(['serve']);
    const proxy = await start(['proxy', '--upstream', serve.url]);
    for (const url of [serve.url, proxy.url]) {
      const res = await postMessage(url, INIT, { host: 'evil.example' });
      expect({ url, status: res.status }).toEqual({ url, status: 403 });
    }
    const metrics = await (await fetch(`${serve.adminUrl}/metrics`)).text();
    expect(samples(metrics, 'mcp_server_requests_rejected_total')).toContain('mcp_server_requests_rejected_total{reason="forbidden_host"} 1');
    // The one session the upstream saw is the proxy's probe at start (it asks what the upstream speaks), not the refused client.
    expect(samples(metrics, 'mcp_server_sessions_total')).toEqual([
      'mcp_server_sessions_total{transport="streamable_http",client_name="mcp-exporter-probe"} 1',
    ]);
  });
});

describe('CORS for browser clients', () => {
  const preflight = (url: string, origin: string): Promise<Response> =>
    fetch(url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, mcp-session-id, mcp-protocol-version' },
    });
  const ALLOWING = (origin: string) => ({
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'GET, POST, DELETE',
    'access-control-allow-headers': 'Accept, Authorization, Content-Type, Last-Event-ID, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name',
    'access-control-max-age': '7200',
    vary: 'Origin',
  });

  it('answers a preflight from an allowed origin with the methods and headers MCP needs', async () => {
    const server = await demo();
    for (const path of ['/mcp', '/sse', '/messages']) {
      const res = await preflight(server.url.replace(/\/mcp$/, path), 'http://localhost:5173');
      expect({ path, status: res.status, cors: corsHeaders(res) }).toEqual({ path, status: 204, cors: ALLOWING('http://localhost:5173') });
    }
  });

  it('gives a preflight from any other origin nothing that allows it', async () => {
    const server = await demo();
    const res = await preflight(server.url, 'https://evil.example');
    expect(res.status).toBe(403);
    expect(corsHeaders(res)).toEqual({});
    expect(await res.json()).toEqual(FORBIDDEN);
    expect(await rejected(server)).toEqual(['mcp_server_requests_rejected_total{reason="forbidden_host"} 1']);
  });

  it('lets an allowed origin read every answer and the Mcp-Session-Id header, errors included', async () => {
    const server = await demo();
    const origin = 'http://127.0.0.1:5173';
    const init = await postRaw(server.url, INIT, { origin });
    expect(init.status).toBe(200);
    expect(corsHeaders(init)).toEqual({
      'access-control-allow-origin': origin,
      'access-control-expose-headers': 'Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate',
      vary: 'Origin',
    });
    expect(init.headers.get('mcp-session-id')).toMatch(/^[0-9a-f-]{36}$/);
    await init.text();
    const unknown = await postRaw(server.url, CALL, { origin, 'mcp-session-id': 'nope' });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('access-control-allow-origin')).toBe(origin);
    await unknown.text();
    // A client that sends no Origin (not a browser) gets no CORS header.
    const plain = await postRaw(server.url, INIT);
    expect(corsHeaders(plain)).toEqual({});
    await plain.text();
  });

  it('on a wildcard address, serves the origins --allowed-origins names (or * for all), and no other', async () => {
    const listed = await demo({ host: '0.0.0.0', allowedOrigins: ['https://app.example.com'], logger: capturingLogger().logger });
    const url = `http://127.0.0.1:${listed.port}/mcp`;
    const ok = await preflight(url, 'https://app.example.com');
    expect([ok.status, corsHeaders(ok)]).toEqual([204, ALLOWING('https://app.example.com')]);
    const other = await preflight(url, 'https://other.example');
    expect([other.status, corsHeaders(other)]).toEqual([403, {}]);
    await other.text();

    const any = await demo({ host: '0.0.0.0', allowedOrigins: ['*'], logger: capturingLogger().logger });
    const anyOk = await preflight(`http://127.0.0.1:${any.port}/mcp`, 'https://other.example');
    expect([anyOk.status, corsHeaders(anyOk)]).toEqual([204, ALLOWING('https://other.example')]);

    // With neither list, a browser origin is served as before but nothing lets the browser read it.
    const open = await demo({ host: '0.0.0.0', logger: capturingLogger().logger });
    const openPreflight = await preflight(`http://127.0.0.1:${open.port}/mcp`, 'https://other.example');
    expect([openPreflight.status, corsHeaders(openPreflight), openPreflight.headers.get('allow')]).toEqual([204, {}, 'GET, POST, DELETE, OPTIONS']);
  });
});

describe('probes without secrets', () => {
  it('/-/healthy and /-/ready answer without the admin token and say nothing of sessions; /api/mcp/health stays behind it', async () => {
    const server = await demo({ adminToken: 'probe-secret' });
    await client(server, 'someone');
    const healthy = await fetch(adminUrl(server, '/-/healthy'));
    expect([healthy.status, await healthy.text()]).toEqual([200, 'mcp-exporter is Healthy.\n']);
    const ready = await fetch(adminUrl(server, '/-/ready'));
    expect([ready.status, await ready.text()]).toEqual([200, 'mcp-exporter is Ready.\n']);
    const head = await fetch(adminUrl(server, '/-/ready'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    const post = await fetch(adminUrl(server, '/-/ready'), { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    expect((await fetch(adminUrl(server, '/api/mcp/health'))).status).toBe(401);
    expect((await getJson(adminUrl(server, '/api/mcp/health'), { headers: { authorization: 'Bearer probe-secret' } })).status).toBe(200);
    const metrics = await scrape(server, { authorization: 'Bearer probe-secret' });
    expect(samples(metrics, 'mcp_server_requests_rejected_total').filter((line) => !line.endsWith(' 0'))).toEqual([
      'mcp_server_requests_rejected_total{reason="unauthorized"} 1',
    ]);
  });

  it('answer on both listeners with --admin-port, and on the MCP listener with the admin routes off', async () => {
    const split = await demo({ adminPort: 0 });
    for (const base of [split.adminUrl, `http://127.0.0.1:${split.port}`]) {
      const res = await fetch(`${base}/-/ready`);
      expect({ base: base === split.adminUrl ? 'admin' : 'mcp', status: res.status }).toEqual({ base: base === split.adminUrl ? 'admin' : 'mcp', status: 200 });
      await res.text();
    }
    const off = await demo({ adminRoutes: false });
    expect((await fetch(`http://127.0.0.1:${off.port}/-/healthy`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${off.port}/metrics`)).status).toBe(404);
  });

  it('/-/ready answers 503 once the server is shutting down, /-/healthy still 200', async () => {
    const server = await demo();
    // The admin handler mounted on a listener of the host's own, which outlives the MCP server.
    const own = createServer((req, res) => server.adminHandler(req, res));
    await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise((resolve) => own.close(resolve)));
    const base = `http://127.0.0.1:${(own.address() as AddressInfo).port}`;
    expect((await fetch(`${base}/-/ready`)).status).toBe(200);
    await server.close();
    const ready = await fetch(`${base}/-/ready`);
    expect([ready.status, await ready.text()]).toEqual([503, 'mcp-exporter is not ready: starting or shutting down.\n']);
    expect((await fetch(`${base}/-/healthy`)).status).toBe(200);
  });
});
