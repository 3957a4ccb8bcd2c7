import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import { ToolCatalog } from './tool-catalog.js';
import { isoTime } from './iso-time.js';
import type { TraceRef } from './trace-context.js';
import type {
  ClientFacts,
  ClosedConnectionInfo,
  CloseReason,
  ConnectionInfo,
  ConnectionKind,
  ConnectionMonitor,
  ConnectionStats,
  OperationIds,
  OperationInfo,
  OperationSpanSink,
  RejectReason,
  TransportKind,
  UpstreamFailure,
  UpstreamState,
} from './types.js';

/**
 * What a transport knows about a connection when it opens: a session the SDK reported
 * initialized, or a listen stream whose request was accepted. It is also the connection's
 * ClientFacts, shared by its operations.
 */
export interface ConnectionStart extends ClientFacts {
  /** The connection's opaque reference (`sessionRef(sessionId)` for a session), never a session id. */
  id: string;
  /** @default 'session' */
  kind?: ConnectionKind;
  transport: TransportKind;
  protocolVersion: string;
}

/** The name of ConnectionStart before listen streams were connections too. */
export type SessionStart = ConnectionStart;

export interface SessionTrackerOptions {
  /** Milliseconds since the epoch. @default Date.now */
  now?: () => number;
  /** Where a monitor that throws is reported. @default a silent logger */
  logger?: Logger;
  /** Makes a server span for each operation (before the monitors see it, so the metrics' exemplar links it). @default none */
  spans?: OperationSpanSink;
}

/** One open connection. Times are epoch milliseconds; ISO strings are made only when read. */
class ConnectionRecord {
  lastActivity: number;
  requestCount = 1;
  /** Made once: every read of the connection needs it. */
  readonly connectedAtIso: string;
  readonly kind: ConnectionKind;

  constructor(
    readonly start: ConnectionStart,
    readonly connectedAt: number,
  ) {
    this.lastActivity = connectedAt;
    this.connectedAtIso = isoTime(connectedAt);
    this.kind = start.kind ?? 'session';
  }

  toInfo(): ConnectionInfo {
    const s = this.start;
    return {
      id: s.id,
      kind: this.kind,
      clientIP: s.clientIP,
      userAgent: s.userAgent,
      connectedAt: this.connectedAtIso,
      lastActivity: this.lastActivity === this.connectedAt ? this.connectedAtIso : isoTime(this.lastActivity),
      requestCount: this.requestCount,
      transport: s.transport,
      clientName: s.clientName,
      clientVersion: s.clientVersion,
      protocolVersion: s.protocolVersion,
      ...(s.authClientId !== undefined ? { authClientId: s.authClientId } : {}),
    };
  }

  toClosed(closedAt: number, reason: CloseReason): ClosedConnectionInfo {
    const s = this.start;
    return {
      id: s.id,
      kind: this.kind,
      clientIP: s.clientIP,
      userAgent: s.userAgent,
      connectedAt: this.connectedAtIso,
      lastActivity: isoTime(this.lastActivity),
      requestCount: this.requestCount,
      transport: s.transport,
      clientName: s.clientName,
      clientVersion: s.clientVersion,
      protocolVersion: s.protocolVersion,
      ...(s.authClientId !== undefined ? { authClientId: s.authClientId } : {}),
      closedAt: isoTime(closedAt),
      durationMs: Math.max(0, closedAt - this.connectedAt),
      reason,
    };
  }
}

/**
 * The core: turns transport events into connection facts and tells monitors. Sessions and
 * listen streams are both connections (`kind`); requests that stand alone are operations
 * only. Every event is O(1); lists are built only when someone asks for them.
 */
export class SessionTracker {
  /** By opaque reference: the tracker never holds a session id. */
  private readonly connections = new Map<string, ConnectionRecord>();
  /** The tools the server offers, as its own answers list them. */
  readonly tools = new ToolCatalog();
  /** Replaced, never changed in place, so a monitor may unsubscribe while being notified. */
  private monitors: readonly ConnectionMonitor[] = [];
  /** The monitors that want operations, kept apart: this list is walked on every request. */
  private operationMonitors: readonly ConnectionMonitor[] = [];
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly spans: OperationSpanSink | undefined;
  private total = 0;
  private readonly open: Record<ConnectionKind, number> = { session: 0, subscription: 0 };
  private readonly opened: Record<ConnectionKind, number> = { session: 0, subscription: 0 };
  private upstreamState: UpstreamState | undefined;

  constructor(options: SessionTrackerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silentLogger;
    this.spans = options.spans;
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

  /** A connection opened: a session the SDK reported initialized, or an accepted listen stream. A second call for the same id is ignored. */
  establish(start: ConnectionStart): void {
    if (this.connections.has(start.id)) return;
    const record = new ConnectionRecord(start, this.now());
    this.connections.set(start.id, record);
    this.total += 1;
    this.open[record.kind] += 1;
    this.opened[record.kind] += 1;
    if (this.monitors.length === 0) return;
    const info = record.toInfo();
    this.notify((m) => m.onConnectionEstablished?.(info));
    this.notifyChange();
  }

  /**
   * Activity of an open connection: moves lastActivity and, for a new HTTP request
   * (`countRequest`), counts it. A stream that ends is activity but not a request.
   */
  touch(id: string, countRequest = true): boolean {
    const record = this.connections.get(id);
    if (!record) return false;
    record.lastActivity = this.now();
    if (countRequest) record.requestCount += 1;
    return true;
  }

  /** A JSON-RPC request answered (a session's, or one that stood alone). */
  recordOperation(operation: OperationInfo, ids?: OperationIds): void {
    if (ids !== undefined) {
      const span = this.span(operation, ids);
      if (span !== undefined) operation.trace = span;
    }
    for (const monitor of this.operationMonitors) {
      try {
        monitor.onOperation?.(operation);
      } catch (error) {
        this.logger.error({ err: error }, 'connection monitor threw; event skipped for it');
      }
    }
  }

  /**
   * The span of an operation (recordOperation makes it before the monitors see the
   * operation, so the metrics' exemplar links it), or of what is no operation the metrics
   * count: a listen stream, from its request to its end. Nothing without a span sink.
   */
  span(operation: OperationInfo, ids: OperationIds): TraceRef | undefined {
    if (this.spans === undefined) return undefined;
    try {
      return this.spans.record(operation, ids);
    } catch (error) {
      this.logger.error({ err: error }, 'making a span failed; the operation is still counted');
      return undefined;
    }
  }

  /** Ends a connection once; later calls for the same id return undefined and change nothing. */
  close(id: string, reason: CloseReason): ClosedConnectionInfo | undefined {
    const record = this.connections.get(id);
    if (!record) return undefined;
    this.connections.delete(id);
    this.open[record.kind] -= 1;
    const closed = record.toClosed(this.now(), reason);
    if (this.monitors.length === 0) return closed;
    this.notify((m) => m.onConnectionClosed?.(id, closed.durationMs, closed));
    this.notifyChange();
    return closed;
  }

  /** A request refused before it reached a server. */
  reject(reason: RejectReason): void {
    this.notify((m) => m.onRequestRejected?.(reason));
  }

  /**
   * The server behind a proxy answers (`up`) or not, and why not: monitors hear the first
   * report and every change after it, not each repeat.
   */
  upstreamIs(up: boolean, reason?: UpstreamFailure): void {
    if (this.upstreamState !== undefined && this.upstreamState.up === up) return;
    const state: UpstreamState = { up, since: this.now(), ...(up || reason === undefined ? {} : { reason }) };
    this.upstreamState = state;
    this.notify((m) => m.onUpstreamChange?.(state));
  }

  /** The server behind a proxy failed a request or a check. */
  upstreamFailed(reason: UpstreamFailure): void {
    this.notify((m) => m.onUpstreamFailure?.(reason));
  }

  /** The server behind a proxy, as last reported; undefined when there is none (not a proxy). */
  get upstream(): UpstreamState | undefined {
    return this.upstreamState;
  }

  /** Connections open now, or those of one kind. */
  activeOf(kind?: ConnectionKind): number {
    return kind === undefined ? this.connections.size : this.open[kind];
  }

  /** Connections opened since this tracker was made, or those of one kind. */
  totalOf(kind?: ConnectionKind): number {
    return kind === undefined ? this.total : this.opened[kind];
  }

  /** Connections open now. */
  get activeCount(): number {
    return this.connections.size;
  }

  /** Connections opened since this tracker was made. */
  get totalCount(): number {
    return this.total;
  }

  has(id: string): boolean {
    return this.connections.has(id);
  }

  /** One open connection by its reference. */
  getConnection(id: string): ConnectionInfo | undefined {
    return this.connections.get(id)?.toInfo();
  }

  /** When an open connection was last active (epoch ms), or undefined. */
  lastActivityAt(id: string): number | undefined {
    return this.connections.get(id)?.lastActivity;
  }

  /** Open connections (of one kind, when given), oldest first; walks only as far as the page needs. */
  getConnections(offset = 0, limit = Number.POSITIVE_INFINITY, kind?: ConnectionKind): ConnectionInfo[] {
    const page: ConnectionInfo[] = [];
    if (limit <= 0) return page;
    let index = 0;
    for (const record of this.connections.values()) {
      if (kind !== undefined && record.kind !== kind) continue;
      if (index++ < offset) continue;
      page.push(record.toInfo());
      if (page.length >= limit) break;
    }
    return page;
  }

  /** References of open connections whose last activity is older than `cutoff` (epoch ms). */
  *idleSince(cutoff: number): Generator<string> {
    for (const [id, record] of this.connections) {
      if (record.lastActivity < cutoff) yield id;
    }
  }

  getStats(): ConnectionStats {
    return {
      activeConnections: this.connections.size,
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
