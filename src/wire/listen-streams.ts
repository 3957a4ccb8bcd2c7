import { randomBytes } from 'node:crypto';
import type { ConnectionStart, SessionTracker } from '../core/session-tracker.js';
import type { TraceRef } from '../core/trace-context.js';
import type { ClientFacts, CloseReason } from '../core/types.js';
import type { BodyWatch } from './exchange.js';

/**
 * The `subscriptions/listen` streams open now (2026-07-28): each is a connection of kind
 * `subscription` from its answer's head to its end: `client_delete` when the client leaves,
 * `server_shutdown` when the server ends it or shutdown cuts it.
 */
export class ListenStreams {
  /** How to cut each stream open now. */
  private readonly open = new Set<() => void>();
  private closing = false;
  /** Resolves closeAll's wait when the last stream ends. */
  private drained: (() => void) | undefined;

  constructor(
    private readonly tracker: SessionTracker,
    /** Monotonic milliseconds, the clock the request's start was read on. */
    private readonly clock: () => number,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /**
   * A listen stream whose answer just started: the watch that follows it to its end, when
   * its span (the listen request's, `request`) ends too.
   */
  follow(client: ClientFacts, protocolVersion: string, request: { id: string | number; startedAt: number; trace: TraceRef | undefined }): BodyWatch {
    const start: ConnectionStart = {
      id: randomBytes(6).toString('hex'),
      kind: 'subscription',
      transport: 'streamable_http',
      ...client,
      protocolVersion,
    };
    this.tracker.establish(start);
    let reason: CloseReason = 'server_shutdown';
    let cut: (() => void) | undefined;
    return {
      chunk: () => void this.tracker.touch(start.id, false),
      cancel: () => {
        reason = 'client_delete';
      },
      hold: (how) => {
        cut = how;
        this.open.add(how);
      },
      end: () => {
        if (cut) this.open.delete(cut);
        this.tracker.close(start.id, this.closing ? 'server_shutdown' : reason);
        this.tracker.span(
          {
            transport: 'streamable_http',
            method: 'subscriptions/listen',
            toolName: '',
            protocolVersion,
            client,
            errorType: '',
            durationSeconds: (this.clock() - request.startedAt) / 1000,
            trace: request.trace,
          },
          { requestId: request.id },
        );
        if (this.open.size === 0) this.drained?.();
      },
    };
  }

  /**
   * Shutdown: streams the handler is ending by itself (the SDK v2's close() sends a last
   * frame) get up to `graceMs` to finish; the rest are cut. Resolves when all have ended.
   */
  async closeAll(graceMs: number): Promise<void> {
    this.closing = true;
    if (this.open.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.drained = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
      this.drained = undefined;
    }
    for (const cut of [...this.open]) cut();
  }
}
