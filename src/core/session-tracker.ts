import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import { ToolCatalog } from './tool-catalog.js';
import type {
  ClosedConnectionInfo,
  CloseReason,
  ConnectionInfo,
  ConnectionMonitor,
  ConnectionStats,
  OperationInfo,
  RejectReason,
  TransportKind,
} from './types.js';

/** What a transport knows about a session when the SDK reports it initialized. */
export interface SessionStart {
  /** The session's opaque reference (`sessionRef(sessionId)`), never the session id itself. */
  id: string;
  /** Already masked. */
  clientIP: string;
  userAgent: string;
  transport: TransportKind;
  clientName: string;
  clientVersion: string;
  protocolVersion: string;
}

export interface SessionTrackerOptions {
  /** Milliseconds since the epoch. @default Date.now */
  now?: () => number;
  /** Where a monitor that throws is reported. @default a silent logger */
  logger?: Logger;
}

/** One open session. Times are epoch milliseconds; ISO strings are made only when read. */
class SessionRecord {
  lastActivity: number;
  requestCount = 1;
  /** Made once: every read of the session needs it. */
  readonly connectedAtIso: string;

  constructor(
    readonly start: SessionStart,
    readonly connectedAt: number,
  ) {
    this.lastActivity = connectedAt;
    this.connectedAtIso = new Date(connectedAt).toISOString();
  }

  toInfo(): ConnectionInfo {
    const s = this.start;
    return {
      id: s.id,
      clientIP: s.clientIP,
      userAgent: s.userAgent,
      connectedAt: this.connectedAtIso,
      lastActivity: this.lastActivity === this.connectedAt ? this.connectedAtIso : new Date(this.lastActivity).toISOString(),
      requestCount: this.requestCount,
      transport: s.transport,
      clientName: s.clientName,
      clientVersion: s.clientVersion,
      protocolVersion: s.protocolVersion,
    };
  }

  toClosed(closedAt: number, reason: CloseReason): ClosedConnectionInfo {
    const s = this.start;
    return {
      id: s.id,
      clientIP: s.clientIP,
      userAgent: s.userAgent,
      connectedAt: this.connectedAtIso,
      lastActivity: new Date(this.lastActivity).toISOString(),
      requestCount: this.requestCount,
      transport: s.transport,
      clientName: s.clientName,
      clientVersion: s.clientVersion,
      protocolVersion: s.protocolVersion,
      closedAt: new Date(closedAt).toISOString(),
      durationMs: Math.max(0, closedAt - this.connectedAt),
      reason,
    };
  }
}

/**
 * The core: turns transport events into session facts and tells monitors.
 * Every event is O(1); lists are built only when someone asks for them.
 */
export class SessionTracker {
  /** By opaque reference: the tracker never holds a session id. */
  private readonly sessions = new Map<string, SessionRecord>();
  /** The tools the server offers, as its own answers list them. */
  readonly tools = new ToolCatalog();
  /** Replaced, never changed in place, so a monitor may unsubscribe while being notified. */
  private monitors: readonly ConnectionMonitor[] = [];
  /** The monitors that want operations, kept apart: this list is walked on every request. */
  private operationMonitors: readonly ConnectionMonitor[] = [];
  private readonly now: () => number;
  private readonly logger: Logger;
  private total = 0;

  constructor(options: SessionTrackerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silentLogger;
  }

  /** Adds a monitor; the returned function removes it. */
  subscribe(monitor: ConnectionMonitor): () => void {
    this.monitors = [...this.monitors, monitor];
    this.operationMonitors = this.monitors.filter((m) => m.onOperation);
    return () => {
      this.monitors = this.monitors.filter((m) => m !== monitor);
      this.operationMonitors = this.monitors.filter((m) => m.onOperation);
    };
  }

  /** A session the SDK reported initialized. A second call for the same id is ignored. */
  establish(start: SessionStart): void {
    if (this.sessions.has(start.id)) return;
    const record = new SessionRecord(start, this.now());
    this.sessions.set(start.id, record);
    this.total += 1;
    if (this.monitors.length === 0) return;
    const info = record.toInfo();
    this.notify((m) => m.onConnectionEstablished?.(info));
    this.notifyChange();
  }

  /**
   * Activity of an open session: moves lastActivity and, for a new HTTP request
   * (`countRequest`), counts it. A stream that ends is activity but not a request.
   */
  touch(id: string, countRequest = true): boolean {
    const record = this.sessions.get(id);
    if (!record) return false;
    record.lastActivity = this.now();
    if (countRequest) record.requestCount += 1;
    return true;
  }

  /** A JSON-RPC request answered by a session's server. */
  recordOperation(operation: OperationInfo): void {
    for (const monitor of this.operationMonitors) {
      try {
        monitor.onOperation?.(operation);
      } catch (error) {
        this.logger.error({ err: error }, 'connection monitor threw; event skipped for it');
      }
    }
  }

  /** Ends a session once; later calls for the same id return undefined and change nothing. */
  close(id: string, reason: CloseReason): ClosedConnectionInfo | undefined {
    const record = this.sessions.get(id);
    if (!record) return undefined;
    this.sessions.delete(id);
    const closed = record.toClosed(this.now(), reason);
    if (this.monitors.length === 0) return closed;
    this.notify((m) => m.onConnectionClosed?.(id, closed.durationMs, closed));
    this.notifyChange();
    return closed;
  }

  /** A request refused before it reached a session. */
  reject(reason: RejectReason): void {
    this.notify((m) => m.onRequestRejected?.(reason));
  }

  /** Sessions open now. */
  get activeCount(): number {
    return this.sessions.size;
  }

  /** Sessions established since this tracker was made. */
  get totalCount(): number {
    return this.total;
  }

  has(id: string): boolean {
    return this.sessions.has(id);
  }

  /** One open session by its reference. */
  getConnection(id: string): ConnectionInfo | undefined {
    return this.sessions.get(id)?.toInfo();
  }

  /** When an open session was last active (epoch ms), or undefined. */
  lastActivityAt(id: string): number | undefined {
    return this.sessions.get(id)?.lastActivity;
  }

  /** Open sessions, oldest first; walks only offset + limit entries. */
  getConnections(offset = 0, limit = Number.POSITIVE_INFINITY): ConnectionInfo[] {
    const page: ConnectionInfo[] = [];
    if (limit <= 0) return page;
    let index = 0;
    for (const record of this.sessions.values()) {
      if (index++ < offset) continue;
      page.push(record.toInfo());
      if (page.length >= limit) break;
    }
    return page;
  }

  /** References of open sessions whose last activity is older than `cutoff` (epoch ms). */
  *idleSince(cutoff: number): Generator<string> {
    for (const [id, record] of this.sessions) {
      if (record.lastActivity < cutoff) yield id;
    }
  }

  getStats(): ConnectionStats {
    return {
      activeConnections: this.sessions.size,
      totalConnections: this.total,
      connections: this.getConnections(),
      lastUpdated: new Date(this.now()).toISOString(),
    };
  }

  private notifyChange(): void {
    if (!this.monitors.some((m) => m.onConnectionChange)) return;
    const stats = new LazyStats(this, new Date(this.now()).toISOString());
    this.notify((m) => m.onConnectionChange?.(stats));
  }

  private notify(call: (monitor: ConnectionMonitor) => void): void {
    for (const monitor of this.monitors) {
      try {
        call(monitor);
      } catch (error) {
        this.logger.error({ err: error }, 'connection monitor threw; event skipped for it');
      }
    }
  }
}

/** Stats handed to onConnectionChange: counts now, the connection list only if read. */
class LazyStats implements ConnectionStats {
  readonly activeConnections: number;
  readonly totalConnections: number;
  readonly lastUpdated: string;
  private list: ConnectionInfo[] | undefined;

  constructor(
    private readonly tracker: SessionTracker,
    lastUpdated: string,
  ) {
    this.activeConnections = tracker.activeCount;
    this.totalConnections = tracker.totalCount;
    this.lastUpdated = lastUpdated;
  }

  get connections(): ConnectionInfo[] {
    this.list ??= this.tracker.getConnections();
    return this.list;
  }

  toJSON(): ConnectionStats {
    return {
      activeConnections: this.activeConnections,
      totalConnections: this.totalConnections,
      connections: this.connections,
      lastUpdated: this.lastUpdated,
    };
  }
}
