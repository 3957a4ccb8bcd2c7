import { describe, expect, it } from 'vitest';
import { openSseStream, postRaw, samples, scrape, useDemoServers } from '../helpers.js';
import { useTestPeers } from '../peers.js';

const { v1 } = useTestPeers();
const { demo } = useDemoServers();

describe("a session id is good only on its own transport's routes", () => {
  it('answers 404 like an unknown id when a Streamable HTTP id comes to /messages, or an SSE id to /mcp', async () => {
    const server = await demo();
    const { transport } = await v1(server.url, 'streamable-client');
    const streamableId = transport.sessionId ?? '';
    const sse = await openSseStream(server.url.replace(/\/mcp$/, '/sse'));
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' });
    const answers = [
      await postRaw(sse.messagesUrl.replace(sse.sessionId, streamableId), ping),
      await postRaw(server.url, ping, { 'mcp-session-id': sse.sessionId, 'mcp-protocol-version': '2025-06-18' }),
      await fetch(server.url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sse.sessionId } }),
      await fetch(server.url, { method: 'DELETE', headers: { 'mcp-session-id': sse.sessionId } }),
    ];
    expect(await Promise.all(answers.map(async (a) => [a.status, ((await a.json()) as { error?: { code?: number } }).error?.code]))).toEqual([
      [404, -32001],
      [404, -32001],
      [404, -32001],
      [404, -32001],
    ]);
    expect(samples(await scrape(server), 'mcp_server_requests_rejected_total').filter((line) => !line.endsWith(' 0'))).toEqual([
      'mcp_server_requests_rejected_total{reason="unknown_session"} 4',
    ]);
    // Each session still works on its own routes (the SSE one has not initialized: it is not counted yet).
    expect(server.tracker.activeCount).toBe(1);
    expect((await postRaw(sse.messagesUrl, ping)).status).toBe(202);
    sse.close();
  });
});

describe('a legacy SSE initialize the SDK refuses', () => {
  it('counts no session, only the refusal; the same initialize sent right then establishes one', async () => {
    const server = await demo();
    const sse = await openSseStream(server.url.replace(/\/mcp$/, '/sse'));
    const init = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'sse-client', version: '1' } } });
    const refused = await fetch(sse.messagesUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: init });
    expect(refused.status).toBe(400);
    await refused.text();
    expect([server.tracker.activeCount, server.tracker.getStats().totalConnections, server.tracker.getStats().connections.length]).toEqual([0, 0, 0]);
    expect(samples(await scrape(server), 'mcp_server_requests_rejected_total').filter((line) => !line.endsWith(' 0'))).toEqual([
      'mcp_server_requests_rejected_total{reason="invalid_request"} 1',
    ]);
    expect((await postRaw(sse.messagesUrl, init)).status).toBe(202);
    expect(server.tracker.getStats().connections.map((c) => [c.clientName, c.transport])).toEqual([['sse-client', 'sse']]);
    sse.close();
  });
});
