import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionTracker } from '../core/session-tracker.js';
import type { ClosedConnectionInfo, ConnectionInfo, ConnectionMonitor } from '../core/types.js';

export interface EventStreamOptions {
  tracker: SessionTracker;
  /** Least time between two mcp_connections_data summaries, in ms. @default 1000 */
  summaryIntervalMs?: number;
  /** A comment line this often keeps proxies from closing idle streams, in ms. @default 15000 */
  keepAliveMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * GET /api/mcp/connections/events: Server-Sent Events for every establish and close as it
 * happens, and a summary (`mcp_connections_data`) at most once per interval, sent on the
 * trailing edge, so a storm of sessions costs one summary per interval. With no
 * subscriber it costs nothing.
 */
export class ConnectionEventStream implements ConnectionMonitor {
  private readonly subscribers = new Set<ServerResponse>();
  private readonly summaryIntervalMs: number;
  private readonly keepAliveMs: number;
  private readonly now: () => number;
  private summaryTimer: NodeJS.Timeout | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: EventStreamOptions) {
    this.summaryIntervalMs = options.summaryIntervalMs ?? 1000;
    this.keepAliveMs = options.keepAliveMs ?? 15_000;
    this.now = options.now ?? Date.now;
  }

  /** Subscribers connected now. */
  get size(): number {
    return this.subscribers.size;
  }

  /** Takes a GET request and keeps its response open as a stream. */
  subscribe(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    this.subscribers.add(res);
    // A subscriber that leaves is dropped at once.
    req.once('close', () => this.drop(res));
    res.once('close', () => this.drop(res));
    this.write(res, 'mcp_connections_data', this.summary());
    if (!this.keepAliveTimer) {
      this.keepAliveTimer = setInterval(() => this.broadcastRaw(': keepalive\n\n'), this.keepAliveMs);
      this.keepAliveTimer.unref();
    }
  }

  onConnectionEstablished = (connection: ConnectionInfo): void => {
    if (this.subscribers.size === 0) return;
    this.broadcast('mcp_connection_established', connection);
    this.scheduleSummary();
  };

  onConnectionClosed = (_id: string, _durationMs: number, connection: ClosedConnectionInfo): void => {
    if (this.subscribers.size === 0) return;
    this.broadcast('mcp_connection_closed', connection);
    this.scheduleSummary();
  };

  /** Ends every stream (at shutdown). */
  close(): void {
    for (const res of this.subscribers) res.end();
    this.subscribers.clear();
    this.stopTimers();
  }

  private summary(): { activeConnections: number; totalConnections: number; lastUpdated: string } {
    const { tracker } = this.options;
    return {
      activeConnections: tracker.activeCount,
      totalConnections: tracker.totalCount,
      lastUpdated: new Date(this.now()).toISOString(),
    };
  }

  private scheduleSummary(): void {
    if (this.summaryTimer) return;
    // Trailing edge: the first change opens a window; the summary, read when the window
    // closes, covers every change in it.
    this.summaryTimer = setTimeout(() => {
      this.summaryTimer = undefined;
      if (this.subscribers.size > 0) this.broadcast('mcp_connections_data', this.summary());
    }, this.summaryIntervalMs);
    this.summaryTimer.unref();
  }

  private drop(res: ServerResponse): void {
    if (!this.subscribers.delete(res)) return;
    if (this.subscribers.size === 0) this.stopTimers();
  }

  private stopTimers(): void {
    if (this.summaryTimer) clearTimeout(this.summaryTimer);
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    this.summaryTimer = undefined;
    this.keepAliveTimer = undefined;
  }

  private broadcast(event: string, data: unknown): void {
    this.broadcastRaw(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private broadcastRaw(frame: string): void {
    for (const res of this.subscribers) res.write(frame);
  }

  private write(res: ServerResponse, event: string, data: unknown): void {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
