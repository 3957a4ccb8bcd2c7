import { execFileSync } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createDemoModernHandler } from '../../src/demo/demo-server-v2.js';
import { McpMonitor } from '../../src/monitor.js';
import { MAX_AWAITING_STREAMS } from '../../src/sdk-v1/sse-host.js';
import { closeWatcher, openSseStream, postMessage, postRaw, rawSession, samples, scrape, useDemoServers, type RawSseStream } from '../helpers.js';

const { demo, client, onCleanup } = useDemoServers();
const INIT = { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'mute', version: '1' } };
const FAST = { pingIntervalSeconds: 0.2, pingTimeoutSeconds: 0.2 };

/** A legacy SSE session opened by hand whose client initializes and then answers nothing. */
async function muteSseSession(sseUrl: string): Promise<RawSseStream> {
  const stream = await openSseStream(sseUrl);
  onCleanup(async () => stream.close());
  await postMessage(stream.messagesUrl, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: INIT }));
  await stream.until('"id":0');
  await postMessage(stream.messagesUrl, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  return stream;
}

/** Counts the pings a client's transport receives; `after(n)` waits for the n-th. */
function pingCounter(transport: Transport) {
  let seen = 0;
  let wake: (() => void) | undefined;
  return {
    install(): void {
      const inner = transport.onmessage;
      transport.onmessage = (message, extra) => {
        if ((message as { method?: string }).method === 'ping') {
          seen += 1;
          wake?.();
        }
        inner?.(message, extra);
      };
    },
    async after(count: number): Promise<void> {
      while (seen < count) await new Promise<void>((resolve) => (wake = resolve));
    },
  };
}

describe('liveness of long-lived streams', () => {
  it('writes an SSE comment on each idle legacy SSE stream every heartbeat interval', async () => {
    const server = await demo({ heartbeatIntervalSeconds: 0.05, pingIntervalSeconds: 0 });
    const stream = await openSseStream(server.url.replace(/\/mcp$/, '/sse'));
    onCleanup(async () => stream.close());
    const text = await stream.until(': keepalive\n\n: keepalive\n\n');
    expect(text.split('\n\n').filter((frame) => frame === ': keepalive')).toHaveLength(2);
  });

  it('closes a legacy SSE session whose client stops answering, as ping_timeout, and keeps one that answers', async () => {
    const closes = closeWatcher();
    const server = await demo({ ...FAST, monitor: closes.monitor });
    const sseUrl = server.url.replace(/\/mcp$/, '/sse');
    const live = new Client({ name: 'answers', version: '1' });
    const transport = new SSEClientTransport(new URL(sseUrl));
    onCleanup(() => live.close());
    await live.connect(transport);
    const pings = pingCounter(transport);
    pings.install();

    const mute = await muteSseSession(sseUrl);
    const [closed] = await closes.next(1);
    expect([closed?.clientName, closed?.transport, closed?.reason]).toEqual(['mute', 'sse', 'ping_timeout']);
    // The mute client's stream was ended with it.
    await expect(mute.until('never sent')).rejects.toThrow('ended');

    // The client that answers has had three pings and is still served; its pings are no operations.
    await pings.after(3);
    expect(await live.callTool({ name: 'echo', arguments: { text: 'still here' } })).toMatchObject({ content: [{ text: 'still here' }] });
    expect(server.tracker.activeCount).toBe(1);
    const text = await scrape(server);
    expect(samples(text, 'mcp_server_sessions_closed_total').filter((line) => !line.endsWith(' 0'))).toEqual([
      'mcp_server_sessions_closed_total{transport="sse",reason="ping_timeout"} 1',
    ]);
    const operations = samples(text, 'mcp_server_operation_duration_seconds_count').map((line) => `${/mcp_method_name="([^"]*)"/.exec(line)?.[1]} ${line.split(' ').pop()}`);
    expect(operations).toEqual(['initialize 1', 'initialize 1', 'tools/call 1']);
  });

  it('pings a Streamable HTTP session while its GET stream is open, and closes it as ping_timeout when nobody answers', async () => {
    const closes = closeWatcher();
    const server = await demo({ ...FAST, monitor: closes.monitor });
    // An SDK client opens its GET stream after initialize and answers the pings on it.
    const transport = new StreamableHTTPClientTransport(new URL(server.url));
    const live = new Client({ name: 'answers', version: '1' });
    onCleanup(() => live.close());
    await live.connect(transport);
    const pings = pingCounter(transport);
    pings.install();
    // A session with no stream has no way to be pinged: it is left to the idle timeout.
    await rawSession(server.url, 'no-stream');
    // A session whose GET stream is open but whose client answers nothing.
    const headers = await rawSession(server.url, 'mute');
    const get = new AbortController();
    onCleanup(async () => get.abort());
    const stream = await fetch(server.url, { headers: { accept: 'text/event-stream', ...headers }, signal: get.signal });
    expect(stream.status).toBe(200);

    const [closed] = await closes.next(1);
    expect([closed?.clientName, closed?.transport, closed?.reason]).toEqual(['mute', 'streamable_http', 'ping_timeout']);
    await pings.after(3);
    expect(server.tracker.getConnections().map((c) => c.clientName).sort()).toEqual(['answers', 'no-stream']);
    // The ended session's id is gone.
    const after = await postRaw(server.url, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }), headers);
    expect(after.status).toBe(404);
  });

  it('gives a legacy SSE stream with no initialize no session slot, and closes it after the initialize timeout', async () => {
    const server = await demo({ maxSessions: 2, pingIntervalSeconds: 0, sse: { stream: '/sse', messages: '/messages', initializeTimeoutMs: 400 } });
    const sseUrl = server.url.replace(/\/mcp$/, '/sse');
    const bare = await Promise.all(Array.from({ length: 5 }, () => openSseStream(sseUrl)));
    onCleanup(async () => bare.forEach((stream) => stream.close()));
    // Five bare streams leave both slots to real clients.
    await client(server, 'first');
    await client(server, 'second');
    const third = await postRaw(server.url, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: INIT }));
    expect(third.status).toBe(503);
    await third.text();
    // Each bare stream is ended at its timeout and counted as a request with no session.
    for (const stream of bare) await expect(stream.until('never sent')).rejects.toThrow('ended');
    const text = await scrape(server);
    expect(samples(text, 'mcp_server_requests_rejected_total').filter((line) => !line.endsWith(' 0'))).toEqual([
      'mcp_server_requests_rejected_total{reason="missing_session"} 5',
      'mcp_server_requests_rejected_total{reason="too_many_sessions"} 1',
    ]);
    expect(samples(text, 'mcp_server_sessions_active').filter((line) => !line.endsWith(' 0'))).toEqual([
      'mcp_server_sessions_active{transport="streamable_http",client_name="first"} 1',
      'mcp_server_sessions_active{transport="streamable_http",client_name="second"} 1',
    ]);
  });

  it('keeps at most MAX_AWAITING_STREAMS streams waiting for their initialize: a new one ends the oldest', async () => {
    const server = await demo({ pingIntervalSeconds: 0 });
    const sseUrl = server.url.replace(/\/mcp$/, '/sse');
    const streams: RawSseStream[] = [];
    onCleanup(async () => streams.forEach((stream) => stream.close()));
    for (let i = 0; i <= MAX_AWAITING_STREAMS; i++) streams.push(await openSseStream(sseUrl));
    await expect(streams[0]?.until('never sent')).rejects.toThrow('ended');
    // The newest can still become a session.
    const newest = streams[MAX_AWAITING_STREAMS] as RawSseStream;
    await postMessage(newest.messagesUrl, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: INIT }));
    await newest.until('"id":0');
    expect(server.tracker.activeCount).toBe(1);
    expect(samples(await scrape(server), 'mcp_server_requests_rejected_total').filter((line) => !line.endsWith(' 0'))).toEqual([
      'mcp_server_requests_rejected_total{reason="missing_session"} 1',
    ]);
  });

  it('turns TCP keepalive on for every accepted socket, in the hosted server and in a library user\'s', async () => {
    // ss shows the kernel's keepalive timer on the server's end of a connection.
    const keepalive = (port: number): string[] =>
      execFileSync('ss', ['-tno', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.includes(`:${port} `))
        .map((line) => /timer:\((keepalive),(59sec|1min)/.exec(line)?.[1] ?? line);
    const server = await demo();
    const stream = await openSseStream(server.url.replace(/\/mcp$/, '/sse'));
    onCleanup(async () => stream.close());
    expect(keepalive(server.port)).toEqual(['keepalive']);

    // A user's own node:http server with the SDK v2 handler mounted through the monitor.
    const monitor = new McpMonitor({ registry: new Registry() });
    const own = createServer(monitor.nodeHandler(createDemoModernHandler()));
    await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
    onCleanup(async () => {
      own.closeAllConnections();
      await new Promise((resolve) => own.close(resolve));
      await monitor.close();
    });
    const port = (own.address() as AddressInfo).port;
    const agent = new Agent({ keepAlive: true });
    onCleanup(async () => agent.destroy());
    const answer = await new Promise<number>((resolve, reject) => {
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'own', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} } } });
      request({ port, host: '127.0.0.1', method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
        .on('error', reject)
        .end(body);
    });
    expect(answer).toBe(200);
    expect(keepalive(port)).toEqual(['keepalive']);
  });
});
