import { randomBytes } from 'node:crypto';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** What one load run does. */
export interface LoadOptions {
  /** MCP endpoints; sessions go to them in turn. */
  urls: readonly string[];
  /** New sessions started per second. */
  rate: number;
  /** Tool calls per session. */
  callsPerSession: number;
  /** Share of calls that fail on purpose (the demo's `fail` tool: a tool error). */
  errorShare: number;
  /** Share of sessions that end without DELETE, left to the server's idle timeout. */
  idleShare: number;
  /** Share of sessions whose client drops its connection in the middle of a call. */
  dropShare: number;
  /** Stop starting sessions after this many seconds; 0 for no time limit. */
  durationSeconds: number;
  /** Stop after this many sessions; 0 for no count limit. */
  maxSessions: number;
  /** Sessions running at once at most. */
  concurrency: number;
  /** Seed of the choices (kind of session, which calls fail), for runs that repeat. */
  seed: number;
  /** Client names used in turn. */
  clientNames: readonly string[];
  /** Share of clients that speak the 2026-07-28 revision (an SDK v2 client pinned to it): requests that stand alone, no session. */
  modernShare: number;
  /** Share of those that hold a subscriptions/listen stream open while they call. */
  listenShare: number;
}

export type SessionKind = 'normal' | 'idle' | 'drop';

/** Counts for one endpoint. */
export interface EndpointCounts {
  sessionsStarted: number;
  sessionsFailed: number;
  deleted: number;
  idled: number;
  dropped: number;
  calls: number;
  callsOk: number;
  toolErrors: number;
  callsFailed: number;
  /** Clients of the 2026-07-28 era started (they open no session). */
  modernClients: number;
  /** subscriptions/listen streams they opened (and closed). */
  listens: number;
  /** tools/call count by tool name, calls that reached the server. */
  byTool: Record<string, number>;
}

/** The run's totals (every count of EndpointCounts but byTool, summed) and the counts by endpoint. */
export type LoadSummary = Omit<EndpointCounts, 'byTool'> & {
  startedAt: string;
  elapsedSeconds: number;
  /** Why sessions failed to start and calls failed (the planned drops aside), by reason, most frequent first. */
  failures: Record<string, number>;
  perUrl: Record<string, EndpointCounts>;
};

/** A failure's reason in one short line: the system error code when there is one (ECONNREFUSED), else the message. */
export function failureReason(error: unknown): string {
  // fetch hides the system error a cause or two down (TypeError: fetch failed, then ECONNREFUSED).
  for (let at: unknown = error, depth = 0; at !== null && typeof at === 'object' && depth < 5; at = (at as { cause?: unknown }).cause, depth++) {
    const code = (at as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.slice(0, 120) ?? 'unknown';
}

export interface LoadProgress {
  elapsedSeconds: number;
  active: number;
  summary: LoadSummary;
}

/** What either SDK line's client offers for a tool call. */
interface ToolCaller {
  callTool(params: { name: string; arguments?: Record<string, unknown>; _meta?: Record<string, unknown> }): Promise<unknown>;
}

/**
 * W3C trace context for one call, as a traced client sends it in `_meta`: so the demo's
 * latency panels have exemplars. Not from the seeded generator, whose choices stay the same.
 */
function traceparent(): string {
  const bytes = randomBytes(24).toString('hex');
  return `00-${bytes.slice(0, 32)}-${bytes.slice(32, 48)}-01`;
}

/** Mulberry32: a small seeded generator, so a run's choices repeat with its seed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COUNT_KEYS = ['sessionsStarted', 'sessionsFailed', 'deleted', 'idled', 'dropped', 'calls', 'callsOk', 'toolErrors', 'callsFailed', 'modernClients', 'listens'] as const;

const emptyCounts = (): EndpointCounts => ({
  sessionsStarted: 0,
  sessionsFailed: 0,
  deleted: 0,
  idled: 0,
  dropped: 0,
  calls: 0,
  callsOk: 0,
  toolErrors: 0,
  callsFailed: 0,
  modernClients: 0,
  listens: 0,
  byTool: {},
});

/**
 * Real MCP client traffic from SDK clients: sessions that open, call tools (some failing
 * on purpose), and end by DELETE, by going silent, or by dropping their connection.
 * Bounded by duration and/or session count; `signal` stops it early.
 */
export class LoadGenerator {
  private readonly random: () => number;
  private readonly perUrl = new Map<string, EndpointCounts>();
  private readonly running = new Set<Promise<void>>();
  private readonly startedAtMs = Date.now();
  private readonly failures = new Map<string, number>();
  private sessionIndex = 0;

  constructor(private readonly options: LoadOptions) {
    this.random = seeded(options.seed);
    for (const url of options.urls) this.perUrl.set(url, emptyCounts());
  }

  /** Runs until the limits are reached (or `signal` aborts) and every session has ended. */
  async run(signal?: AbortSignal, onProgress?: (progress: LoadProgress) => void, progressEveryMs = 1000): Promise<LoadSummary> {
    const { rate, durationSeconds, maxSessions, concurrency } = this.options;
    const progressTimer = onProgress
      ? setInterval(() => onProgress({ elapsedSeconds: this.elapsed(), active: this.running.size, summary: this.summary() }), progressEveryMs)
      : undefined;
    const intervalMs = 1000 / rate;
    const deadline = durationSeconds > 0 ? this.startedAtMs + durationSeconds * 1000 : Number.POSITIVE_INFINITY;
    let next = Date.now();
    try {
      while (!signal?.aborted && Date.now() < deadline && (maxSessions === 0 || this.sessionIndex < maxSessions)) {
        if (this.running.size >= concurrency) {
          await Promise.race(this.running);
          continue;
        }
        const wait = next - Date.now();
        if (wait > 0) await delay(wait, signal);
        if (signal?.aborted) break;
        next += intervalMs;
        const session = this.session(this.sessionIndex++);
        this.running.add(session);
        void session.finally(() => this.running.delete(session));
      }
      await Promise.all(this.running);
    } finally {
      if (progressTimer) clearInterval(progressTimer);
    }
    return this.summary();
  }

  summary(): LoadSummary {
    const total = emptyCounts();
    const perUrl: Record<string, EndpointCounts> = {};
    for (const [url, counts] of this.perUrl) {
      perUrl[url] = { ...counts, byTool: { ...counts.byTool } };
      for (const key of COUNT_KEYS) total[key] += counts[key];
    }
    const { byTool: _ignored, ...totals } = total;
    const failures = Object.fromEntries([...this.failures].sort((a, b) => b[1] - a[1]));
    return { startedAt: new Date(this.startedAtMs).toISOString(), elapsedSeconds: this.elapsed(), ...totals, failures, perUrl };
  }

  private failed(error: unknown): void {
    const reason = failureReason(error);
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
  }

  private elapsed(): number {
    return Math.round((Date.now() - this.startedAtMs) / 100) / 10;
  }

  private kindOf(): SessionKind {
    const roll = this.random();
    if (roll < this.options.dropShare) return 'drop';
    if (roll < this.options.dropShare + this.options.idleShare) return 'idle';
    return 'normal';
  }

  /** The arguments of one planned call. */
  private argumentsOf(tool: string, index: number): Record<string, unknown> {
    return tool === 'echo' ? { text: `call ${index}` } : tool === 'sleep' ? { ms: 5 + Math.floor(this.random() * 45) } : {};
  }

  /** Makes one planned call and counts how it went. */
  private async call(client: ToolCaller, counts: EndpointCounts, tool: string, index: number): Promise<void> {
    counts.calls += 1;
    counts.byTool[tool] = (counts.byTool[tool] ?? 0) + 1;
    try {
      const result = (await client.callTool({ name: tool, arguments: this.argumentsOf(tool, index), _meta: { traceparent: traceparent() } })) as { isError?: unknown };
      if (result.isError === true) counts.toolErrors += 1;
      else counts.callsOk += 1;
    } catch (error) {
      counts.callsFailed += 1;
      this.failed(error);
    }
  }

  /**
   * A client of the 2026-07-28 era: discovery, then calls that stand alone, perhaps with a
   * listen stream open meanwhile. (Idle and dropped are what sessions do.)
   */
  private async modernClient(url: string, counts: EndpointCounts, name: string, plan: readonly string[], listen: boolean): Promise<void> {
    const client = new ModernClient({ name, version: '2.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    try {
      await client.connect(new ModernTransport(new URL(url)));
    } catch (error) {
      counts.sessionsFailed += 1;
      this.failed(error);
      await client.close().catch(() => {});
      return;
    }
    counts.modernClients += 1;
    try {
      const subscription = listen ? await client.listen({ toolsListChanged: true }) : undefined;
      if (subscription) counts.listens += 1;
      for (const [i, tool] of plan.entries()) await this.call(client, counts, tool, i);
      await subscription?.close();
      await client.close();
    } catch (error) {
      counts.callsFailed += 1;
      this.failed(error);
      await client.close().catch(() => {});
    }
  }

  private async session(index: number): Promise<void> {
    const { urls, clientNames, callsPerSession, errorShare } = this.options;
    const url = urls[index % urls.length] ?? '';
    const counts = this.perUrl.get(url) ?? emptyCounts();
    const kind = this.kindOf();
    const plan = Array.from({ length: callsPerSession }, () => (this.random() < errorShare ? 'fail' : this.random() < 0.8 ? 'echo' : 'sleep'));
    const name = clientNames[index % clientNames.length] ?? 'mcp-exporter-loadgen';
    if (this.random() < this.options.modernShare) return this.modernClient(url, counts, name, plan, this.random() < this.options.listenShare);
    const client = new Client({ name, version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(url));
    try {
      await client.connect(transport);
    } catch (error) {
      counts.sessionsFailed += 1;
      this.failed(error);
      await client.close().catch(() => {});
      return;
    }
    counts.sessionsStarted += 1;
    try {
      for (const tool of plan) await this.call(client, counts, tool, index);
      if (kind === 'drop') {
        counts.dropped += 1;
        counts.calls += 1;
        counts.byTool.sleep = (counts.byTool.sleep ?? 0) + 1;
        const pending = client.callTool({ name: 'sleep', arguments: { ms: 60_000 } }).catch(() => undefined);
        // Give the request time to leave, then drop the connection with it still running.
        await delay(50);
        await transport.close();
        await pending;
        counts.callsFailed += 1;
      } else if (kind === 'idle') {
        counts.idled += 1;
        await transport.close();
      } else {
        await transport.terminateSession();
        counts.deleted += 1;
        await client.close();
      }
    } catch (error) {
      counts.callsFailed += 1;
      this.failed(error);
      await client.close().catch(() => {});
    }
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
