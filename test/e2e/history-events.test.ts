import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SessionTracker } from '../../src/core/session-tracker.js';
import type { ClosedConnectionInfo, ConnectionInfo } from '../../src/core/types.js';
import { ConnectionEventStream } from '../../src/http/event-stream.js';
import type { MonitoredServer } from '../../src/server.js';
import { adminUrl, getJson, useDemoServers, type ConnectedClient } from '../helpers.js';

const { demo, client, onCleanup } = useDemoServers();

/** One Server-Sent Event as the stream framed it. */
interface SseEvent {
  event: string;
  data: unknown;
}

type Predicate = (events: readonly SseEvent[]) => boolean;

/** How long a wait for an event may take before the test fails. */
const WAIT_MS = 5_000;

/**
 * Reads an event stream as it arrives: keeps every frame (keepalive comments skipped)
 * and the raw text, and lets a test await a condition over the events so far.
 */
class SseReader {
  readonly events: SseEvent[] = [];
  raw = '';
  private buffer = '';
  private ended: Error | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(readonly response: Response) {
    void this.pump();
  }

  named(name: string): SseEvent[] {
    return this.events.filter((e) => e.event === name);
  }

  /** Resolves with the events once `predicate` holds; fails after WAIT_MS or when the stream ends first. */
  until(what: string, predicate: Predicate): Promise<SseEvent[]> {
    return new Promise<SseEvent[]>((resolve, reject) => {
      const check = (): void => {
        if (predicate(this.events)) {
          finish();
          resolve([...this.events]);
        } else if (this.ended) {
          finish();
          reject(new Error(`event stream ended (${this.ended.message}) before ${what}; got ${JSON.stringify(this.events)}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}; got ${JSON.stringify(this.events)}`));
      }, WAIT_MS);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  private async pump(): Promise<void> {
    const body = this.response.body;
    if (!body) {
      this.end(new Error('no body'));
      return;
    }
    const reader = body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const text = decoder.decode(value, { stream: true });
        this.raw += text;
        this.buffer += text;
        let end = this.buffer.indexOf('\n\n');
        while (end >= 0) {
          this.parse(this.buffer.slice(0, end));
          this.buffer = this.buffer.slice(end + 2);
          end = this.buffer.indexOf('\n\n');
        }
        this.notify();
      }
      this.end(new Error('end of stream'));
    } catch (error) {
      this.end(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private parse(frame: string): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) continue;
      if (line.startsWith('event: ')) event = line.slice('event: '.length);
      else if (line.startsWith('data: ')) data.push(line.slice('data: '.length));
      else throw new Error(`unexpected line in event stream: ${JSON.stringify(line)}`);
    }
    if (data.length === 0) return; // a comment-only frame: keepalive
    this.events.push({ event, data: JSON.parse(data.join('\n')) as unknown });
  }

  private end(reason: Error): void {
    this.ended = reason;
    this.notify();
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }
}

/** Opens an event stream subscription; aborted in afterEach unless the test does it first. */
async function subscribe(url: string): Promise<{ reader: SseReader; controller: AbortController }> {
  const controller = new AbortController();
  onCleanup(async () => controller.abort());
  const response = await fetch(url, { signal: controller.signal });
  return { reader: new SseReader(response), controller };
}

function eventsUrl(server: MonitoredServer): string {
  return adminUrl(server, '/api/mcp/connections/events');
}

const count = (events: readonly SseEvent[], name: string): number => events.filter((e) => e.event === name).length;

const isClosedOf =
  (id: string) =>
  (e: SseEvent): boolean =>
    e.event === 'mcp_connection_closed' && (e.data as ConnectionInfo).id === id;

const isEstablishedOf =
  (id: string) =>
  (e: SseEvent): boolean =>
    e.event === 'mcp_connection_established' && (e.data as ConnectionInfo).id === id;

/** What a session of connectClient looks like in the API, before any field that varies. */
function expectedInfo(id: string, clientName: string): Record<string, unknown> {
  return {
    id,
    kind: 'session',
    clientIP: '127.0.0.0',
    userAgent: 'node',
    connectedAt: expect.any(String),
    lastActivity: expect.any(String),
    requestCount: expect.any(Number),
    transport: 'streamable_http',
    clientName,
    clientVersion: '1.0.0',
    protocolVersion: '2025-11-25',
  };
}

interface HistoryBody {
  limit: number;
  connections: ClosedConnectionInfo[];
}

describe('/api/mcp/connections/history', () => {
  it('lists closed sessions newest first with closedAt, durationMs and reason', async () => {
    const server = await demo();
    const alpha = await client(server, 'alpha');
    const beta = await client(server, 'beta');
    await client(server, 'gamma');
    expect(await getJson(adminUrl(server, '/api/mcp/connections/history'))).toEqual({ status: 200, body: { limit: 1000, connections: [] } });

    await alpha.transport.terminateSession();
    await beta.transport.terminateSession();

    const res = await getJson(adminUrl(server, '/api/mcp/connections/history'));
    expect(res.status).toBe(200);
    const body = res.body as HistoryBody;
    expect(body).toEqual({
      limit: 1000,
      connections: [
        { ...expectedInfo(beta.ref, 'beta'), closedAt: expect.any(String), durationMs: expect.any(Number), reason: 'client_delete' },
        { ...expectedInfo(alpha.ref, 'alpha'), closedAt: expect.any(String), durationMs: expect.any(Number), reason: 'client_delete' },
      ],
    });
    for (const closed of body.connections) {
      const connectedAt = Date.parse(closed.connectedAt);
      const closedAt = Date.parse(closed.closedAt);
      expect(new Date(closedAt).toISOString()).toBe(closed.closedAt);
      expect(closed.durationMs).toBeGreaterThanOrEqual(0);
      // Both times come from the same clock in whole milliseconds.
      expect(closed.durationMs).toBe(closedAt - connectedAt);
      expect(Date.parse(closed.lastActivity)).toBeLessThanOrEqual(closedAt);
      // initialize, notifications/initialized, DELETE at least.
      expect(closed.requestCount).toBeGreaterThanOrEqual(3);
    }
    // The closed session sits in the history, not among the open ones.
    expect(server.tracker.getConnections().map((c) => c.clientName)).toEqual(['gamma']);
    expect(server.history.newest()).toEqual(body.connections);
  });

  it('records server_shutdown for the sessions close() ends, after the earlier closes', async () => {
    const server = await demo();
    const first = await client(server, 'first');
    const a = await client(server, 'shut-a');
    const b = await client(server, 'shut-b');
    await first.transport.terminateSession();

    await server.close();

    const newest = server.history.newest();
    expect(newest).toHaveLength(3);
    expect(newest.map((c) => c.reason)).toEqual(['server_shutdown', 'server_shutdown', 'client_delete']);
    // close() ends the open sessions together, so their order among themselves is not fixed.
    expect(newest.slice(0, 2).map((c) => c.id).sort()).toEqual([a.ref, b.ref].sort());
    expect(newest[2]).toEqual({
      ...expectedInfo(first.ref, 'first'),
      closedAt: expect.any(String),
      durationMs: expect.any(Number),
      reason: 'client_delete',
    });
    for (const closed of newest) expect(closed.durationMs).toBeGreaterThanOrEqual(0);
    expect(server.history.size).toBe(3);
  });

  it('keeps exactly the newest historyLimit sessions, and pages within that capacity', async () => {
    const server = await demo({ historyLimit: 3 });
    const names = ['c1', 'c2', 'c3', 'c4', 'c5'];
    const made: ConnectedClient[] = [];
    for (const name of names) made.push(await client(server, name));
    for (const c of made) await c.transport.terminateSession();

    const all = await getJson(adminUrl(server, '/api/mcp/connections/history'));
    expect(all.status).toBe(200);
    const body = all.body as HistoryBody;
    expect(body.limit).toBe(3);
    expect(body.connections.map((c) => c.clientName)).toEqual(['c5', 'c4', 'c3']);
    expect(body.connections.map((c) => c.id)).toEqual([made[4]?.ref, made[3]?.ref, made[2]?.ref]);
    expect(body.connections.map((c) => c.reason)).toEqual(['client_delete', 'client_delete', 'client_delete']);
    expect(server.history.size).toBe(3);

    const two = await getJson(adminUrl(server, '/api/mcp/connections/history?limit=2'));
    expect(two.status).toBe(200);
    const twoBody = two.body as HistoryBody;
    expect(twoBody.limit).toBe(2);
    expect(twoBody.connections.map((c) => c.clientName)).toEqual(['c5', 'c4']);
    expect(twoBody.connections).toEqual(body.connections.slice(0, 2));

    expect(await getJson(adminUrl(server, '/api/mcp/connections/history?limit=0'))).toEqual({
      status: 400,
      body: { error: 'limit must be a whole number from 1 to 3' },
    });
    expect(await getJson(adminUrl(server, '/api/mcp/connections/history?limit=4'))).toEqual({
      status: 400,
      body: { error: 'limit must be a whole number from 1 to 3' },
    });
  });

  it('historyLimit 0 keeps nothing', async () => {
    const server = await demo({ historyLimit: 0 });
    const c = await client(server, 'gone');
    await c.transport.terminateSession();
    expect(server.tracker.totalCount).toBe(1);
    expect(await getJson(adminUrl(server, '/api/mcp/connections/history'))).toEqual({
      status: 200,
      body: { limit: 0, connections: [] },
    });
    expect(server.history.size).toBe(0);
  });
});

describe('/api/mcp/connections/events', () => {
  it('starts with the counts, then reports an establish and a close in order', async () => {
    const server = await demo({ eventsSummaryIntervalMs: 50 });
    await client(server, 'before');
    const { reader } = await subscribe(eventsUrl(server));
    expect(reader.response.status).toBe(200);
    expect(reader.response.headers.get('content-type')).toBe('text/event-stream');
    expect(reader.response.headers.get('cache-control')).toBe('no-cache, no-transform');

    await reader.until('the first summary', (events) => events.length >= 1);
    expect(reader.events).toEqual([
      { event: 'mcp_connections_data', data: { activeConnections: 1, totalConnections: 1, lastUpdated: expect.any(String) } },
    ]);

    const alpha = await client(server, 'alpha');
    await reader.until('alpha established', (events) => events.some(isEstablishedOf(alpha.ref)));
    await alpha.transport.terminateSession();
    await reader.until('alpha closed', (events) => events.some(isClosedOf(alpha.ref)));
    // The close's summary (trailing edge) says one open, two in all.
    await reader.until('the summary after the close', (events) => {
      const last = events.at(-1);
      return last?.event === 'mcp_connections_data' && (last.data as { activeConnections: number }).activeConnections === 1 &&
        events.findIndex(isClosedOf(alpha.ref)) < events.length - 1;
    });

    const sessionEvents = reader.events.filter((e) => e.event !== 'mcp_connections_data');
    expect(sessionEvents).toEqual([
      { event: 'mcp_connection_established', data: { ...expectedInfo(alpha.ref, 'alpha'), requestCount: 1 } },
      {
        event: 'mcp_connection_closed',
        data: { ...expectedInfo(alpha.ref, 'alpha'), closedAt: expect.any(String), durationMs: expect.any(Number), reason: 'client_delete' },
      },
    ]);
    const established = sessionEvents[0]?.data as ConnectionInfo;
    expect(established.lastActivity).toBe(established.connectedAt);
    // The close event is the very record the history keeps.
    expect(sessionEvents[1]?.data).toEqual(server.history.newest(1)[0]);
    expect(reader.events.at(-1)).toEqual({
      event: 'mcp_connections_data',
      data: { activeConnections: 1, totalConnections: 2, lastUpdated: expect.any(String) },
    });
  });

  it('throttles the summary: a storm of 10 sessions costs a summary per window, and the last one is exact', async () => {
    const interval = 200;
    const server = await demo({ eventsSummaryIntervalMs: interval });
    const { reader } = await subscribe(eventsUrl(server));
    await reader.until('the first summary', (events) => events.length >= 1);
    expect(reader.events).toEqual([
      { event: 'mcp_connections_data', data: { activeConnections: 0, totalConnections: 0, lastUpdated: expect.any(String) } },
    ]);

    const started = performance.now();
    const made = await Promise.all(Array.from({ length: 10 }, (_, i) => client(server, `storm-${i}`)));
    await Promise.all(made.map((c) => c.transport.terminateSession()));
    await reader.until('10 closes and a summary after the last', (events) => {
      const lastClosed = events.map((e) => e.event).lastIndexOf('mcp_connection_closed');
      return count(events, 'mcp_connection_closed') === 10 && events.slice(lastClosed + 1).some((e) => e.event === 'mcp_connections_data');
    });
    const elapsedMs = performance.now() - started;

    const events = reader.events;
    expect(count(events, 'mcp_connection_established')).toBe(10);
    expect(count(events, 'mcp_connection_closed')).toBe(10);
    expect(
      events
        .filter((e) => e.event === 'mcp_connection_established')
        .map((e) => (e.data as ConnectionInfo).id)
        .sort(),
    ).toEqual(made.map((c) => c.ref).sort());
    expect(
      events
        .filter((e) => e.event === 'mcp_connection_closed')
        .map((e) => (e.data as ClosedConnectionInfo).reason),
    ).toEqual(Array.from({ length: 10 }, () => 'client_delete'));
    // Every session is established before it is closed.
    for (const c of made) expect(events.findIndex(isEstablishedOf(c.ref))).toBeLessThan(events.findIndex(isClosedOf(c.ref)));

    const summaries = events.slice(1).filter((e) => e.event === 'mcp_connections_data');
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    expect(summaries.length).toBeLessThanOrEqual(Math.ceil(elapsedMs / interval) + 1);
    expect(summaries.at(-1)?.data).toEqual({ activeConnections: 0, totalConnections: 10, lastUpdated: expect.any(String) });
    // Trailing edge: a new window opens only after the previous summary, so summaries are
    // at least an interval apart (a few ms of slack: timers and Date.now use different clocks).
    const times = summaries.map((e) => Date.parse((e.data as { lastUpdated: string }).lastUpdated));
    for (let i = 1; i < times.length; i++) expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThanOrEqual(interval - 5);
  });

  it('drops a subscriber that leaves and keeps serving the others', async () => {
    const server = await demo({ eventsSummaryIntervalMs: 50 });
    const leaving = await subscribe(eventsUrl(server));
    const staying = await subscribe(eventsUrl(server));
    await leaving.reader.until('the first summary', (events) => events.length >= 1);
    await staying.reader.until('the first summary', (events) => events.length >= 1);

    leaving.controller.abort();
    await expect(leaving.reader.until('never', () => false)).rejects.toThrow(/event stream ended/);

    const c = await client(server, 'after-abort');
    await staying.reader.until('the establish after the abort', (events) => events.some(isEstablishedOf(c.ref)));
    await c.transport.terminateSession();
    await staying.reader.until('the close after the abort', (events) => events.some(isClosedOf(c.ref)));
    expect(staying.reader.events.filter((e) => e.event !== 'mcp_connections_data').map((e) => e.event)).toEqual([
      'mcp_connection_established',
      'mcp_connection_closed',
    ]);

    const health = await getJson(adminUrl(server, '/api/mcp/health'));
    expect(health).toEqual({
      status: 200,
      body: {
        healthy: true,
        serverRunning: true,
        toolsCount: server.tools.length,
        endpoint: '/mcp',
        connections: { active: 0, total: 1 },
        lastCheck: expect.any(String),
      },
    });
    const again = await client(server, 'still-serving');
    expect(await again.client.callTool({ name: 'echo', arguments: { text: 'ok' } })).toEqual({ content: [{ type: 'text', text: 'ok' }] });
  });

  it('ConnectionEventStream on a plain node:http server: size follows subscribers that leave', async () => {
    const tracker = new SessionTracker();
    const stream = new ConnectionEventStream({ tracker, summaryIntervalMs: 50 });
    tracker.subscribe(stream);
    const serverSideClosed: Promise<unknown>[] = [];
    const http = createServer((req, res) => {
      stream.subscribe(req, res);
      // Registered after subscribe's own listener, so it runs once the stream has dropped res.
      serverSideClosed.push(once(res, 'close'));
    });
    onCleanup(
      () =>
        new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        }),
    );
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;

    const one = await subscribe(url);
    const two = await subscribe(url);
    await one.reader.until('the first summary', (events) => events.length >= 1);
    await two.reader.until('the first summary', (events) => events.length >= 1);
    expect(stream.size).toBe(2);
    expect(serverSideClosed).toHaveLength(2);

    one.controller.abort();
    await serverSideClosed[0];
    expect(stream.size).toBe(1);

    tracker.establish({
      id: 's-1',
      clientIP: '10.0.0.0',
      userAgent: 'ua',
      transport: 'sse',
      clientName: 'direct',
      clientVersion: '2.0.0',
      protocolVersion: '2025-06-18',
    });
    await two.reader.until('the establish', (events) => events.some(isEstablishedOf('s-1')));
    expect(two.reader.named('mcp_connection_established')).toEqual([
      {
        event: 'mcp_connection_established',
        data: {
          id: 's-1',
          kind: 'session',
          clientIP: '10.0.0.0',
          userAgent: 'ua',
          connectedAt: expect.any(String),
          lastActivity: expect.any(String),
          requestCount: 1,
          transport: 'sse',
          clientName: 'direct',
          clientVersion: '2.0.0',
          protocolVersion: '2025-06-18',
        },
      },
    ]);
    expect(one.reader.named('mcp_connection_established')).toEqual([]);

    two.controller.abort();
    await serverSideClosed[1];
    expect(stream.size).toBe(0);
    // With nobody listening, events cost nothing and break nothing.
    expect(tracker.close('s-1', 'client_delete')).toMatchObject({ id: 's-1', reason: 'client_delete' });
    expect(stream.size).toBe(0);
  });

  it('never carries request headers', async () => {
    const server = await demo({ eventsSummaryIntervalMs: 50 });
    const { reader } = await subscribe(eventsUrl(server));
    await reader.until('the first summary', (events) => events.length >= 1);

    const { client: mcp, transport, sessionId, ref } = await client(server, 'with-secrets', {
      Authorization: 'Bearer SECRET-TOKEN-123',
      'X-Api-Key': 'SECRET-KEY-456',
      Cookie: 'sid=SECRET-COOKIE',
    });
    expect(await mcp.callTool({ name: 'echo', arguments: { text: 'hi' } })).toEqual({ content: [{ type: 'text', text: 'hi' }] });
    await transport.terminateSession();
    await reader.until('the close and its summary', (events) => {
      const closed = events.findIndex(isClosedOf(ref));
      return closed >= 0 && events.slice(closed + 1).some((e) => e.event === 'mcp_connections_data');
    });

    expect(reader.named('mcp_connection_established')).toEqual([
      { event: 'mcp_connection_established', data: { ...expectedInfo(ref, 'with-secrets'), requestCount: 1 } },
    ]);
    expect(reader.raw).toContain(ref);
    expect(reader.raw).not.toContain(sessionId);
    expect(reader.raw).not.toContain('SECRET');
    const history = await fetch(adminUrl(server, '/api/mcp/connections/history'));
    expect(await history.text()).not.toContain('SECRET');
  });
});
