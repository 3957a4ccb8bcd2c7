import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { sessionRef } from '../../src/core/session-ref.js';
import type { ClosedConnectionInfo, ConnectionInfo, ConnectionMonitor, ConnectionStats } from '../../src/core/types.js';
import { createDemoServer } from '../../src/demo/demo-server.js';
import { startStreamableMcpServer } from '../../src/compat.js';
import type { MonitoredServer } from '../../src/server.js';
import { adminUrl, getJson, postRaw, samples, scrape, useDemoServers } from '../helpers.js';

const { demo, client, onCleanup } = useDemoServers();

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw-client', version: '9.9.9' } },
});

describe('sessions over real Streamable HTTP clients', () => {
  it('three clients give exact gauges, counters and JSON', async () => {
    const server = await demo();
    const a1 = await client(server, 'alpha');
    await client(server, 'alpha');
    const b = await client(server, 'beta');

    const text = await scrape(server);
    expect(samples(text, 'mcp_server_sessions_active')).toEqual([
      'mcp_server_sessions_active{transport="streamable_http",client_name="alpha"} 2',
      'mcp_server_sessions_active{transport="streamable_http",client_name="beta"} 1',
    ]);
    expect(samples(text, 'mcp_server_sessions_total')).toEqual([
      'mcp_server_sessions_total{transport="streamable_http",client_name="alpha"} 2',
      'mcp_server_sessions_total{transport="streamable_http",client_name="beta"} 1',
    ]);
    expect(samples(text, 'mcp_server_session_duration_seconds_count')).toEqual([]);

    const list = await getJson(adminUrl(server, '/api/mcp/connections'));
    expect(list.status).toBe(200);
    const body = list.body as { activeConnections: number; totalConnections: number; connections: ConnectionInfo[] };
    expect(body.activeConnections).toBe(3);
    expect(body.totalConnections).toBe(3);
    expect(body.connections.map((c) => c.clientName)).toEqual(['alpha', 'alpha', 'beta']);
    const first = body.connections[0];
    expect(first?.id).toBe(a1.ref);
    expect(first?.clientIP).toBe('127.0.0.0');
    expect(first?.transport).toBe('streamable_http');
    expect(first?.clientVersion).toBe('1.0.0');
    expect(first?.protocolVersion).toBe('2025-11-25');
    expect(first?.userAgent).toBe('node');

    expect((await getJson(adminUrl(server, '/api/mcp/connections/count'))).body).toMatchObject({ activeConnections: 3 });
    const one = await getJson(adminUrl(server, `/api/mcp/connections/${b.ref}`));
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: b.ref, clientName: 'beta' });
  });

  it('counts every HTTP request of a session and reads clientInfo from initialize', async () => {
    const server = await demo({ ipMasking: 'none' });
    const init = await postRaw(server.url, INIT, { 'user-agent': 'raw/1' });
    expect(init.status).toBe(200);
    const sessionId = init.headers.get('mcp-session-id') ?? '';
    await init.text();
    const headers = { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' };
    const note = await postRaw(server.url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers);
    expect(note.status).toBe(202);
    const list = await postRaw(server.url, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), headers);
    expect(list.status).toBe(200);
    await list.text();

    const info = server.tracker.getConnection(sessionRef(sessionId));
    expect(info).toMatchObject({
      id: sessionRef(sessionId),
      clientIP: '127.0.0.1',
      userAgent: 'raw/1',
      requestCount: 3,
      transport: 'streamable_http',
      clientName: 'raw-client',
      clientVersion: '9.9.9',
      protocolVersion: '2025-06-18',
    });
    expect(Date.parse(info?.lastActivity ?? '')).toBeGreaterThanOrEqual(Date.parse(info?.connectedAt ?? ''));
  });

  it('DELETE gives exact decrements and one duration observation', async () => {
    const closed: ClosedConnectionInfo[] = [];
    const server = await demo({ monitor: { onConnectionClosed: (_id, _ms, info) => closed.push(info) } });
    const a = await client(server, 'alpha');
    await client(server, 'alpha');

    await a.transport.terminateSession();

    const text = await scrape(server);
    expect(samples(text, 'mcp_server_sessions_active')).toEqual([
      'mcp_server_sessions_active{transport="streamable_http",client_name="alpha"} 1',
    ]);
    expect(samples(text, 'mcp_server_sessions_total')).toEqual([
      'mcp_server_sessions_total{transport="streamable_http",client_name="alpha"} 2',
    ]);
    expect(samples(text, 'mcp_server_sessions_closed_total')).toContain(
      'mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 1',
    );
    expect(samples(text, 'mcp_server_session_duration_seconds_count')).toEqual([
      'mcp_server_session_duration_seconds_count{transport="streamable_http",reason="client_delete"} 1',
    ]);
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ id: a.ref, reason: 'client_delete', clientName: 'alpha' });

    const counts = (await getJson(adminUrl(server, '/api/mcp/connections'))).body as Record<string, unknown>;
    expect([counts.activeConnections, counts.totalConnections]).toEqual([1, 2]);
    const gone = await getJson(adminUrl(server, `/api/mcp/connections/${a.ref}`));
    expect(gone).toEqual({ status: 404, body: { error: 'Connection not found', id: a.ref } });

    // The ended session's id is now unknown to the endpoint.
    const late = await postRaw(server.url, JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list' }), {
      'mcp-session-id': a.sessionId,
    });
    expect(late.status).toBe(404);
    expect(samples(await scrape(server), 'mcp_server_requests_rejected_total')).toContain(
      'mcp_server_requests_rejected_total{reason="unknown_session"} 1',
    );
  });

  it('close() ends every open session once, with reason server_shutdown', async () => {
    const reasons: string[] = [];
    const server = await demo({ monitor: { onConnectionClosed: (_id, _ms, info) => reasons.push(info.reason) } });
    const registry = server.registry;
    await client(server, 'alpha');
    await client(server, 'alpha');
    await client(server, 'beta');

    await server.close();
    await server.close();

    expect(reasons).toEqual(['server_shutdown', 'server_shutdown', 'server_shutdown']);
    expect(server.tracker.activeCount).toBe(0);
    expect(server.tracker.totalCount).toBe(3);
    const text = (await registry?.metrics()) ?? '';
    expect(samples(text, 'mcp_server_sessions_active')).toEqual([
      'mcp_server_sessions_active{transport="streamable_http",client_name="alpha"} 0',
      'mcp_server_sessions_active{transport="streamable_http",client_name="beta"} 0',
    ]);
    expect(samples(text, 'mcp_server_sessions_closed_total').filter((l) => !l.endsWith(' 0'))).toEqual([
      'mcp_server_sessions_closed_total{transport="streamable_http",reason="server_shutdown"} 3',
    ]);
    expect(samples(text, 'mcp_server_session_duration_seconds_count')).toEqual([
      'mcp_server_session_duration_seconds_count{transport="streamable_http",reason="server_shutdown"} 3',
    ]);
    expect(server.httpServer.listening).toBe(false);
  });

  it('two instances in one process share nothing', async () => {
    const one = await demo();
    const two = await demo();
    await client(one, 'same');
    await client(one, 'same');
    await client(two, 'same');

    expect(samples(await scrape(one), 'mcp_server_sessions_active')).toEqual([
      'mcp_server_sessions_active{transport="streamable_http",client_name="same"} 2',
    ]);
    expect(samples(await scrape(two), 'mcp_server_sessions_active')).toEqual([
      'mcp_server_sessions_active{transport="streamable_http",client_name="same"} 1',
    ]);
    expect([one.tracker.totalCount, two.tracker.totalCount]).toEqual([2, 1]);
    expect(one.registry).not.toBe(two.registry);
  });

  it('serves code written for the earlier ConnectionMonitor shape', async () => {
    const events: string[] = [];
    let lastStats: ConnectionStats | undefined;
    // The earlier design's monitor: onConnectionClosed(sessionId, duration).
    const legacy: ConnectionMonitor = {
      onConnectionChange: (stats: ConnectionStats) => {
        lastStats = stats;
      },
      onConnectionEstablished: (connection: ConnectionInfo) => events.push(`open ${connection.clientName}`),
      onConnectionClosed: (id: string, duration: number) => events.push(`closed ${typeof id} ${typeof duration}`),
    };
    const server = await startStreamableMcpServer(createDemoServer, '/mcp', 0, undefined, legacy);
    onCleanup(() => server.close());
    const c = await client(server, 'legacy');
    expect(lastStats?.activeConnections).toBe(1);
    expect(lastStats?.connections.map((x) => x.id)).toEqual([c.ref]);
    await c.transport.terminateSession();
    expect(events).toEqual(['open legacy', 'closed string number']);
    expect([lastStats?.activeConnections, lastStats?.totalConnections]).toEqual([0, 1]);
  });
});

describe('bad input gets a clear answer and is counted', () => {
  const rejected = async (server: MonitoredServer): Promise<string[]> =>
    samples(await scrape(server), 'mcp_server_requests_rejected_total').filter((line) => !line.endsWith(' 0'));

  it('POST without a session id that is not initialize: 400, missing_session', async () => {
    const server = await demo();
    const res = await postRaw(server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      error: { code: -32000, message: 'Bad Request: Mcp-Session-Id header is required; start a session with an initialize request' },
      id: null,
    });
    const get = await fetch(server.url, { headers: { accept: 'text/event-stream' } });
    expect(get.status).toBe(400);
    await get.body?.cancel();
    expect(await rejected(server)).toEqual(['mcp_server_requests_rejected_total{reason="missing_session"} 2']);
  });

  it('unknown session id: 404, unknown_session', async () => {
    const server = await demo();
    const res = await postRaw(server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), {
      'mcp-session-id': 'no-such-session',
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      error: { code: -32001, message: 'Session not found: start a new session with an initialize request' },
      id: null,
    });
    const del = await fetch(server.url, { method: 'DELETE', headers: { 'mcp-session-id': 'no-such-session' } });
    expect(del.status).toBe(404);
    await del.body?.cancel();
    expect(await rejected(server)).toEqual(['mcp_server_requests_rejected_total{reason="unknown_session"} 2']);
  });

  it('invalid JSON: 400 with -32700, parse_error', async () => {
    const server = await demo();
    const res = await postRaw(server.url, '{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      error: { code: -32700, message: 'Parse error: the body is not valid JSON' },
      id: null,
    });
    expect(await rejected(server)).toEqual(['mcp_server_requests_rejected_total{reason="parse_error"} 1']);
  });

  it('a body over the cap: 413, payload_too_large, and the server keeps serving', async () => {
    const server = await demo({ maxBodyBytes: 1024 });
    const res = await postRaw(server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(4096) } }));
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      error: { code: -32000, message: 'Payload too large: the limit is 1024 bytes' },
      id: null,
    });
    expect(await rejected(server)).toEqual(['mcp_server_requests_rejected_total{reason="payload_too_large"} 1']);
    const ok = await client(server, 'after');
    expect(await ok.client.callTool({ name: 'echo', arguments: { text: 'still here' } })).toEqual({
      content: [{ type: 'text', text: 'still here' }],
    });
  });

  it('a request the SDK refuses inside a session counts as invalid_request and leaves the session open', async () => {
    const server = await demo();
    const c = await client(server, 'alpha');
    const res = await postRaw(server.url, JSON.stringify({ not: 'json-rpc' }), { 'mcp-session-id': c.sessionId });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32700);
    expect(await rejected(server)).toEqual(['mcp_server_requests_rejected_total{reason="invalid_request"} 1']);
    expect(server.tracker.activeCount).toBe(1);
  });

  it('an initialize the SDK refuses leaves no session behind', async () => {
    const server = await demo();
    const res = await postRaw(server.url, INIT, { accept: 'application/json' });
    expect(res.status).toBe(406);
    await res.text();
    expect(server.tracker.totalCount).toBe(0);
    expect(await rejected(server)).toEqual(['mcp_server_requests_rejected_total{reason="not_acceptable"} 1']);
  });

  it('an unsupported method on /mcp: 405 with Allow', async () => {
    const server = await demo();
    const res = await fetch(server.url, { method: 'PUT', body: '{}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST, DELETE');
    await res.body?.cancel();
  });
});

describe('metrics exposition', () => {
  it('answers OpenMetrics when the scraper asks, text 0.0.4 otherwise', async () => {
    const server = await demo();
    await client(server, 'alpha');
    const open = await fetch(adminUrl(server, '/metrics'), { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(open.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const body = await open.text();
    expect(body.endsWith('# EOF\n')).toBe(true);
    expect(body).toContain('# TYPE mcp_server_sessions counter\n');
    expect(body).toContain('mcp_server_sessions_total{transport="streamable_http",client_name="alpha"} 1\n');
    const plain = await fetch(adminUrl(server, '/metrics'));
    expect(plain.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await plain.text()).toContain('# TYPE mcp_server_sessions_total counter\n');
  });

  it('uses the registry it is given and no other', async () => {
    const registry = new Registry();
    const server = await demo({ registry });
    expect(server.registry).toBe(registry);
    await client(server, 'alpha');
    expect(samples(await registry.metrics(), 'mcp_server_sessions_total')).toEqual([
      'mcp_server_sessions_total{transport="streamable_http",client_name="alpha"} 1',
    ]);
  });
});
