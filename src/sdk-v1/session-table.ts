import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/logger.js';
import { sessionRef } from '../core/session-ref.js';
import type { SessionTracker } from '../core/session-tracker.js';
import type { CloseReason } from '../core/types.js';
import { JSONRPC, sendJsonRpcError, SHUTTING_DOWN } from '../transport/http-answers.js';
import { Heartbeats } from '../transport/liveness.js';
import type { MonitoredTransport } from './monitored-transport.js';
import type { McpTransport as Transport } from './transport-shape.js';

/** What a server factory must return: an McpServer or a low-level Server both fit. */
export interface ConnectableServer {
  connect(transport: Transport): Promise<void>;
  close(): Promise<void>;
}

/** Builds one server per session; the SDK refuses to connect one server to two transports. */
export type ServerFactory = () => ConnectableServer | Promise<ConnectableServer>;

/** A session a host serves: its server, and what the table needs to end it. */
export interface HostedSession {
  readonly server: ConnectableServer;
  /** The transport it lives on: a session id is good only on its own transport's routes. */
  readonly transportKind: 'streamable_http' | 'sse';
  /** The session id (a credential: it stays in the transport layer); known once the session is established. */
  id: string | undefined;
  /** The session's opaque reference, what the tracker and everything after it know it by; set with `id`. */
  ref: string | undefined;
  /** Set by whoever starts the close; a close nobody asked for is a transport error. */
  closeReason: CloseReason | undefined;
  /** HTTP requests of this session still open (a GET stream, a long tool call). */
  inFlight: number;
  /** Ends one of them: made once per session (at register), so a request costs no closure of its own. */
  responseClosed: (() => void) | undefined;
  /** Hands one HTTP request of this session to its SDK transport. */
  handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void>;
  /** The session's monitored transport: at shutdown it answers what is still pending; the liveness check pings through it. */
  monitored?: MonitoredTransport | undefined;
  /** Streams open to the client (the legacy SSE stream, a Streamable HTTP GET stream): what a ping can reach it by. */
  streams: number;
  /** A legacy SSE stream whose client has not initialized yet: it holds no --max-sessions slot. */
  awaitingInitialize: boolean;
}


export interface SessionTableOptions {
  tracker: SessionTracker;
  logger: Logger;
  /** Close sessions with no activity for this long; 0 never does. @default 0 */
  idleTimeoutMs?: number;
  /** Sessions open or being set up at most; new ones get 503 past it. 0: no limit. @default 0 */
  maxSessions?: number;
  /** SSE comment on every open stream this often, in ms; 0 never. @default 0 */
  heartbeatIntervalMs?: number;
  /** MCP ping to every session holding a stream open this often, in ms; 0 never. @default 0 */
  pingIntervalMs?: number;
  /** A session whose client does not answer its ping in this many ms is closed as ping_timeout. @default 10000 */
  pingTimeoutMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * The sessions of every transport of one server: routes ids to sessions, ends each
 * exactly once with its reason, and closes the ones that fall silent. A request still
 * open (a GET stream, a slow tool call) keeps its session alive.
 */
export class SessionTable {
  private readonly byId = new Map<string, HostedSession>();
  /** Sessions being set up or open; some have no id yet. */
  private readonly live = new Set<HostedSession>();
  private readonly idleTimeoutMs: number;
  private readonly now: () => number;
  private reaper: NodeJS.Timeout | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private readonly pingTimeoutMs: number;
  private readonly heartbeats: Heartbeats;
  /** Legacy SSE streams in `live` whose client has not initialized yet. */
  private awaiting = 0;
  private closingAll = false;

  constructor(private readonly options: SessionTableOptions) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 0;
    this.now = options.now ?? Date.now;
    if (this.idleTimeoutMs > 0) {
      // Sweep often enough that a session ends within a tenth of the timeout after it.
      const every = Math.min(30_000, Math.max(100, Math.floor(this.idleTimeoutMs / 10)));
      this.reaper = setInterval(() => void this.closeIdle(), every);
      this.reaper.unref();
    }
    this.heartbeats = new Heartbeats(options.heartbeatIntervalMs ?? 0);
    this.pingTimeoutMs = options.pingTimeoutMs ?? 10_000;
    if ((options.pingIntervalMs ?? 0) > 0) {
      this.pinger = setInterval(() => this.pingAll(), options.pingIntervalMs);
      this.pinger.unref();
    }
  }

  /** Open sessions. */
  get size(): number {
    return this.byId.size;
  }

  /** Sessions open or being set up (a legacy SSE stream before its initialize). */
  get liveCount(): number {
    return this.live.size;
  }

  /**
   * Whether a new session may start. If not, answers 503 with a JSON-RPC error (shutting
   * down, or at --max-sessions, counted as too_many_sessions); sessions already open go on.
   * A legacy SSE stream opened before its initialize (`awaitingInitialize`) is admitted past
   * --max-sessions and asks again at its initialize.
   */
  admit(res: ServerResponse, awaitingInitialize = false): boolean {
    if (this.closingAll) {
      sendJsonRpcError(res, 503, JSONRPC.serverError, 'Server is shutting down', { Connection: 'close' });
      return false;
    }
    const max = this.options.maxSessions ?? 0;
    // A legacy SSE stream takes its slot at its initialize: a stream that never sends one blocks nobody.
    if (!awaitingInitialize && max > 0 && this.live.size - this.awaiting >= max) {
      this.options.tracker.reject('too_many_sessions');
      sendJsonRpcError(res, 503, JSONRPC.serverError, `Too many sessions: this server holds at most ${max}; try again later`, {
        'Retry-After': '5',
      });
      return false;
    }
    return true;
  }

  add(session: HostedSession): void {
    this.live.add(session);
    if (session.awaitingInitialize) this.awaiting += 1;
  }

  /** A legacy SSE stream's client initialized: from now on it holds a --max-sessions slot. */
  initialized(session: HostedSession): void {
    if (!session.awaitingInitialize) return;
    session.awaitingInitialize = false;
    this.awaiting -= 1;
  }

  /**
   * A stream to the client is open on `res`: while one is open the session's client is
   * pinged. `heartbeats` when nobody else writes them (the SDK v1's Streamable HTTP
   * transport does, every 15 s; its legacy SSE transport does not).
   */
  openStream(session: HostedSession, res: ServerResponse, heartbeats: boolean): void {
    if (res.writableEnded) return;
    if (heartbeats) this.heartbeats.add(res);
    session.streams += 1;
    res.once('close', () => {
      session.streams -= 1;
    });
  }

  /** Pings the client of every open session holding a stream; closes the ones that stay silent. */
  private pingAll(): void {
    for (const session of this.byId.values()) {
      if (!session.monitored || session.streams === 0) continue;
      // A ping still out makes this one 'unsent': one at a time per session.
      void session.monitored.ping(this.pingTimeoutMs).then((outcome) => {
        // Silent with no stream left proves nothing (the ping may have had no way to the client).
        // The close is logged with its reason, like every session's.
        if (outcome === 'silent' && session.streams > 0 && this.live.has(session) && !this.closingAll) void this.close(session, 'ping_timeout');
      });
    }
  }

  /** The session is established under `id`; returns the reference the tracker is to know it by. */
  register(id: string, session: HostedSession): string {
    const ref = sessionRef(id);
    session.id = id;
    session.ref = ref;
    const tracker = this.options.tracker;
    session.responseClosed = () => {
      session.inFlight -= 1;
      tracker.touch(ref, false);
    };
    this.byId.set(id, session);
    return ref;
  }

  get(id: string): HostedSession | undefined {
    return this.byId.get(id);
  }

  /**
   * An HTTP request of an open session: counts it, and keeps the session from idling out
   * until the response ends (which counts as activity too).
   */
  begin(session: HostedSession, res: ServerResponse): void {
    const ref = session.ref;
    if (ref === undefined || session.responseClosed === undefined) return;
    this.options.tracker.touch(ref);
    session.inFlight += 1;
    // A response closes once: on() spares the wrapper once() would make per request.
    res.on('close', session.responseClosed);
  }

  /** Ends a session: closes its server (and with it the transport), then records it. */
  async close(session: HostedSession, reason: CloseReason): Promise<void> {
    session.closeReason ??= reason;
    if (reason === 'server_shutdown' && session.monitored && session.monitored.pendingCount > 0) {
      await session.monitored.answerPending(SHUTTING_DOWN.code, SHUTTING_DOWN.message);
    }
    try {
      await session.server.close();
    } catch (error) {
      this.options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'closing an MCP server failed');
    }
    this.record(session);
  }

  /**
   * Runs once per session when its transport closed by itself or by a DELETE; hosts call it
   * from the transport's onclose. The server may still hold the transport, so it is closed too.
   */
  finish(session: HostedSession): void {
    if (this.record(session)) void session.server.close().catch(() => {});
  }

  /** Records the end of a session once, whoever ended it; false if it was recorded already. */
  private record(session: HostedSession): boolean {
    if (!this.live.delete(session)) return false;
    if (session.awaitingInitialize) this.awaiting -= 1;
    if (session.id === undefined || session.ref === undefined) return true;
    this.byId.delete(session.id);
    this.options.tracker.close(session.ref, session.closeReason ?? 'transport_error');
    return true;
  }

  /** Closes every session with `reason` and stops the idle sweep. */
  async closeAll(reason: CloseReason): Promise<void> {
    this.closingAll = true;
    if (this.reaper) clearInterval(this.reaper);
    if (this.pinger) clearInterval(this.pinger);
    this.heartbeats.stop();
    await Promise.all([...this.live].map((session) => this.close(session, reason)));
  }

  /** Closes the sessions silent for the idle timeout with no request open. */
  async closeIdle(): Promise<number> {
    if (this.idleTimeoutMs <= 0) return 0;
    const cutoff = this.now() - this.idleTimeoutMs;
    const idle: HostedSession[] = [];
    for (const session of this.byId.values()) {
      if (session.inFlight > 0 || session.ref === undefined) continue;
      const last = this.options.tracker.lastActivityAt(session.ref);
      if (last !== undefined && last < cutoff) idle.push(session);
    }
    await Promise.all(idle.map((session) => this.close(session, 'idle_timeout')));
    return idle.length;
  }
}
