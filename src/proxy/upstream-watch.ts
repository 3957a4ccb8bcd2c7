import type { SessionTracker } from '../core/session-tracker.js';
import type { UpstreamFailure } from '../core/types.js';

/** What a check of the upstream found: nothing wrong (undefined), or why it failed and whether that means it is down. */
export type CheckResult = undefined | { reason: UpstreamFailure; down: boolean };

export interface UpstreamWatchOptions {
  tracker: SessionTracker;
  /**
   * Check an upstream that has been silent (no request came back from it, well or badly) this
   * long, in ms; 0 never checks it (its state is then what requests find). @default 10000
   */
  intervalMs?: number;
  /** Asks the upstream once, without leaving anything open on it. */
  check: () => Promise<CheckResult>;
  /** Monotonic ms. @default performance.now */
  now?: () => number;
}

/**
 * Whether the server behind a proxy answers, from what its traffic finds and, while it is
 * silent, from a check every interval: one answer makes it up, a failure that means it cannot
 * serve (refused, timed out, reset, unreachable, a gateway 5xx, a command that cannot start)
 * makes it down. Every failure is counted; up and down are reported when they change.
 */
export class UpstreamWatch {
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private lastHeard: number;
  private checking = false;

  constructor(private readonly options: UpstreamWatchOptions) {
    this.now = options.now ?? (() => performance.now());
    this.intervalMs = options.intervalMs ?? 10_000;
    this.lastHeard = this.now();
    if (this.intervalMs > 0) {
      // Looked at often enough that a check is at most a quarter interval (or a second) late.
      this.timer = setInterval(() => void this.checkIfSilent(), Math.max(50, Math.min(this.intervalMs / 4, 1000)));
      this.timer.unref();
    }
  }

  /** The upstream answered a request. */
  answered(): void {
    this.lastHeard = this.now();
    this.options.tracker.upstreamIs(true);
  }

  /** The upstream failed a request: counted; `down` when it means the upstream cannot serve. */
  failed(reason: UpstreamFailure, down: boolean): void {
    this.options.tracker.upstreamFailed(reason);
    if (down) {
      this.lastHeard = this.now();
      this.options.tracker.upstreamIs(false, reason);
    }
    // A failure that does not mean down (a 500, a child that exited) leaves the state as it was,
    // and the next check (the upstream has not been heard answering since) says which it is.
  }

  /** Checks the upstream now (at start, and when it has been silent). */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const result = await this.options.check();
      if (result === undefined) this.answered();
      else this.failed(result.reason, result.down);
    } finally {
      this.checking = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async checkIfSilent(): Promise<void> {
    if (this.now() - this.lastHeard >= this.intervalMs) await this.check();
  }
}

/** A network error's code (node:http's, or fetch's cause) as an upstream failure. */
export function failureOf(error: unknown): UpstreamFailure {
  const code = (error as { code?: unknown } | undefined)?.code ?? (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  const name = (error as { name?: unknown } | undefined)?.name;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection_refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'connection_reset';
    case 'ETIMEDOUT':
    case 'ESOCKETTIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'timeout';
    default:
      if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
      return 'unreachable';
  }
}

/** Whether an answer's status means the upstream (or its gateway) cannot serve: 502, 503, 504. */
export const meansDown = (status: number): boolean => status === 502 || status === 503 || status === 504;
