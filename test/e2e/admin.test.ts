import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createAdminHandler } from '../../src/http/admin-routes.js';
import { createAdminRouter } from '../../src/http/express-router.js';
import { promClientRenderer } from '../../src/metrics/exposition.js';
import { addProcessMetrics } from '../../src/metrics/process-metrics.js';
import { adminUrl, getJson, samples, scrape, useDemoServers } from '../helpers.js';

const { demo, client, onCleanup } = useDemoServers();

describe('/api/mcp routes', () => {
  it('pages connections with limit and offset, oldest first', async () => {
    const server = await demo();
    const made = [];
    for (const name of ['c0', 'c1', 'c2', 'c3', 'c4']) made.push(await client(server, name));

    const page = await getJson(adminUrl(server, '/api/mcp/connections?limit=2&offset=1'));
    expect(page.status).toBe(200);
    const body = page.body as { limit: number; offset: number; activeConnections: number; connections: { clientName: string }[] };
    expect([body.limit, body.offset, body.activeConnections]).toEqual([2, 1, 5]);
    expect(body.connections.map((c) => c.clientName)).toEqual(['c1', 'c2']);

    const tail = (await getJson(adminUrl(server, '/api/mcp/connections?offset=4'))).body as typeof body;
    expect(tail.connections.map((c) => c.clientName)).toEqual(['c4']);
    expect(tail.limit).toBe(100);
  });

  it.each([
    ['limit=0', 'limit must be a whole number from 1 to 1000'],
    ['limit=1001', 'limit must be a whole number from 1 to 1000'],
    ['limit=abc', 'limit must be a whole number from 1 to 1000'],
    ['offset=-1', 'offset must be a whole number from 0 to 9007199254740991'],
    ['offset=1.5', 'offset must be a whole number from 0 to 9007199254740991'],
  ])('answers 400 for %s', async (query, error) => {
    const server = await demo();
    expect(await getJson(adminUrl(server, `/api/mcp/connections?${query}`))).toEqual({ status: 400, body: { error } });
  });

  it('404s an unknown connection and an unknown API path; 405s a POST', async () => {
    const server = await demo();
    expect(await getJson(adminUrl(server, '/api/mcp/connections/nope'))).toEqual({
      status: 404,
      body: { error: 'Connection not found', id: 'nope' },
    });
    expect(await getJson(adminUrl(server, '/api/mcp/nothing'))).toEqual({
      status: 404,
      body: { error: 'Not found', path: '/api/mcp/nothing' },
    });
    const post = await fetch(adminUrl(server, '/api/mcp/status'), { method: 'POST' });
    expect(post.status).toBe(405);
    expect(await post.json()).toEqual({ error: 'Method not allowed: use GET' });
  });

  it('status, health and tools describe the demo server', async () => {
    const server = await demo({ config: { ipMasking: 'truncate' } });
    await client(server, 'alpha');
    const status = await getJson(adminUrl(server, '/api/mcp/status'));
    expect(status).toEqual({
      status: 200,
      body: {
        isRunning: true,
        toolsCount: 4,
        endpoint: '/mcp',
        tools: ['echo', 'sleep', 'fail', 'throw'],
        config: { ipMasking: 'truncate' },
        connections: { active: 1, total: 1 },
      },
    });
    const health = await getJson(adminUrl(server, '/api/mcp/health'));
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      healthy: true,
      serverRunning: true,
      toolsCount: 4,
      endpoint: '/mcp',
      connections: { active: 1, total: 1 },
    });
    const tools = (await getJson(adminUrl(server, '/api/mcp/tools'))).body as { count: number; tools: { name: string; inputSchema: unknown }[] };
    expect(tools.count).toBe(4);
    expect(tools.tools[0]).toMatchObject({ name: 'echo', inputSchema: { type: 'object', required: ['text'] } });
  });

  it('health answers 503 when the MCP server is not running', async () => {
    const server = await demo();
    const handler = createAdminHandler({ tracker: server.tracker, metrics: null, endpoint: '/mcp', isRunning: () => false });
    const listener = createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', () => resolve()));
    onCleanup(() => new Promise<void>((resolve) => listener.close(() => resolve())));
    const health = await getJson(`http://127.0.0.1:${(listener.address() as AddressInfo).port}/api/mcp/health`);
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ healthy: false, serverRunning: false, toolsCount: 0 });
  });
});

describe('admin token and admin port', () => {
  it('requires the bearer token on /metrics and /api, and counts refusals', async () => {
    const server = await demo({ adminToken: 's3cret-token' });
    const bare = await fetch(adminUrl(server, '/metrics'));
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toBe('Bearer realm="mcp-exporter"');
    expect(await bare.json()).toEqual({ error: 'Unauthorized: send Authorization: Bearer <admin token>' });
    const wrong = await fetch(adminUrl(server, '/api/mcp/connections'), { headers: { authorization: 'Bearer s3cret-tokem' } });
    expect(wrong.status).toBe(401);
    await wrong.body?.cancel();

    const text = await scrape(server, { authorization: 'Bearer s3cret-token' });
    expect(samples(text, 'mcp_server_requests_rejected_total')).toContain('mcp_server_requests_rejected_total{reason="unauthorized"} 2');
    // The MCP endpoint is not behind the admin token.
    await client(server, 'alpha');
    expect(server.tracker.activeCount).toBe(1);
  });

  it('serves admin routes only on the admin port when one is given', async () => {
    const server = await demo({ adminPort: 0 });
    expect(server.adminUrl).not.toBe(`http://127.0.0.1:${server.port}`);
    await client(server, 'alpha');
    const onMcpPort = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(onMcpPort.status).toBe(404);
    await onMcpPort.body?.cancel();
    expect(samples(await scrape(server), 'mcp_server_sessions_active')).toEqual([
      'mcp_server_sessions_active{transport="streamable_http",client_name="alpha"} 1',
    ]);
    const onAdminPort = await fetch(`${server.adminUrl}/mcp`, { method: 'POST', body: '{}' });
    expect(onAdminPort.status).toBe(404);
    await onAdminPort.body?.cancel();
  });
});

describe('mounting in a host app', () => {
  it('an express app serves the admin router beside its own routes', async () => {
    const server = await demo({ adminRoutes: false });
    const registry = server.registry;
    if (!registry) throw new Error('expected a registry');
    const app = express();
    app.get('/own', (_req, res) => {
      res.json({ own: true });
    });
    app.use('/admin', createAdminRouter({ tracker: server.tracker, metrics: promClientRenderer(registry), endpoint: '/mcp' }));
    const listener = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => listener.once('listening', () => resolve()));
    onCleanup(() => new Promise<void>((resolve) => listener.close(() => resolve())));
    const base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;

    await client(server, 'alpha');
    expect(await getJson(`${base}/admin/api/mcp/connections/count`)).toMatchObject({ status: 200, body: { activeConnections: 1 } });
    expect(await getJson(`${base}/own`)).toEqual({ status: 200, body: { own: true } });
    const metrics = await (await fetch(`${base}/admin/metrics`)).text();
    expect(samples(metrics, 'mcp_server_sessions_total')).toEqual([
      'mcp_server_sessions_total{transport="streamable_http",client_name="alpha"} 1',
    ]);
    // The monitored server itself no longer serves them.
    expect((await fetch(adminUrl(server, '/metrics'))).status).toBe(404);
  });
});

describe('promtool', () => {
  it('accepts the /metrics output after real traffic', async () => {
    const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
    if (probe.error) {
      throw new Error('promtool not found: install the Debian package "prometheus" (apt-get install -y prometheus), as .ci/run does');
    }
    const registry = new Registry();
    addProcessMetrics(registry);
    const server = await demo({ registry });
    const a = await client(server, 'alpha');
    await client(server, 'beta');
    await a.transport.terminateSession();
    const text = await scrape(server);
    expect(text).toContain('\nprocess_cpu_user_seconds_total ');
    expect(text).toContain('\nnodejs_eventloop_lag_p99_seconds ');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: check.status, stdout: check.stdout, stderr: check.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
  });
});
