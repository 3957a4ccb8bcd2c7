import type { ConnectionStart, SessionTracker } from '../core/session-tracker.js';
import type { CloseReason } from '../core/types.js';
import type { BodyWatch } from './exchange.js';

/** A 2025 session seen on the wire (the transport and its state stay with the server). */
export interface WireSession {
  /** Its connection facts: the tracker knows it by `start.id`, an opaque reference, never the session id. */
  readonly start: ConnectionStart;
  /** Who its operations come from, and at which version: made once for the session's life. */
  readonly known: { client: ConnectionStart; protocolVersion: string };
  /** GET streams open now: while one is, the session is alive. */
  streams: number;
}

export interface WireSessionsOptions {
  tracker: SessionTracker;
  /** Forget a session after this long without a request and with no stream open, in ms; 0 never does. */
  idleTimeoutMs: number;
  /** Epoch milliseconds. */
  now: () => number;
  /**
   * Called when the monitor lets go of a session the client did not end (idle, or at
   * shutdown): a proxy ends it upstream. closeAll() waits for what it returns. @default none
   */
  endSession?: (sessionId: string, protocolVersion: string) => Promise<void> | void;
}

/**
 * The 2025 sessions a server keeps, as the wire shows them: established by an initialize
 * answered with an Mcp-Session-Id, kept alive by requests and GET streams, ended by a
 * DELETE, a 404 for the id, idleness or shutdown. Each ends once, with its reason.
 */
export class WireSessions {
  private readonly sessions = new Map<string, WireSession>();
  private readonly reaper: NodeJS.Timeout | undefined;

  constructor(private readonly options: WireSessionsOptions) {
    const { idleTimeoutMs } = options;
    if (idleTimeoutMs > 0) {
      // Sweep often enough that a session ends within a tenth of the timeout after it.
      this.reaper = setInterval(() => this.forgetIdle(), Math.min(30_000, Math.max(100, Math.floor(idleTimeoutMs / 10))));
      this.reaper.unref();
    }
  }

  get size(): number {
    return this.sessions.size;
  }

  get(sessionId: string): WireSession | undefined {
    return this.sessions.get(sessionId);
  }

  /** A request of the session: moves its last activity and counts it. */
  touch(session: WireSession): void {
    this.options.tracker.touch(session.start.id);
  }

  /** A session the server just started under `sessionId`; a second start of the same id is ignored. */
  establish(sessionId: string, start: ConnectionStart): void {
    if (this.sessions.has(sessionId)) return;
    this.sessions.set(sessionId, { start, known: { client: start, protocolVersion: start.protocolVersion }, streams: 0 });
    this.options.tracker.establish(start);
  }

  /** Ends a session once; one the client did not end is handed to endSession (a proxy ends it upstream). */
  end(sessionId: string, reason: CloseReason): Promise<void> | void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.sessions.delete(sessionId);
    this.options.tracker.close(session.start.id, reason);
    if (reason === 'idle_timeout' || reason === 'server_shutdown') return this.options.endSession?.(sessionId, session.start.protocolVersion);
  }

  /** A session's GET stream: the session stays alive while it is open; its end is activity. */
  followStream(session: WireSession): BodyWatch {
    session.streams += 1;
    return {
      end: () => {
        session.streams -= 1;
        this.options.tracker.touch(session.start.id, false);
      },
    };
  }

  /** Ends every session (server_shutdown) and stops the sweep; resolves once endSession is done for each. */
  async closeAll(): Promise<void> {
    if (this.reaper) clearInterval(this.reaper);
    await Promise.all([...this.sessions.keys()].map((sessionId) => this.end(sessionId, 'server_shutdown')));
  }

  private forgetIdle(): void {
    const cutoff = this.options.now() - this.options.idleTimeoutMs;
    for (const [sessionId, session] of this.sessions) {
      if (session.streams > 0) continue;
      const last = this.options.tracker.lastActivityAt(session.start.id);
      if (last !== undefined && last < cutoff) void this.end(sessionId, 'idle_timeout');
    }
  }
}
