import { performance } from 'node:perf_hooks';
import { boundedText } from '../core/bounded-text.js';
import { OVERFLOW_LABEL } from '../core/label-cap.js';
import { mcpMethod } from '../core/mcp-methods.js';
import { traceOf, type TraceRef } from '../core/trace-context.js';
import type { ToolCatalog } from '../core/tool-catalog.js';
import { OTHER_ERROR, UNKNOWN_CLIENT, type ClientFacts, type OperationIds, type OperationInfo, type TransportKind } from '../core/types.js';
import { jsonRpcError } from '../transport/http-answers.js';
import { errorTypeOf, type JsonRpcLike } from '../transport/jsonrpc-outcome.js';
import type { JsonRpcMessage, McpTransport as Transport, RequestId, TransportSendOptions } from './transport-shape.js';

export { OTHER_ERROR, TOOL_ERROR } from '../core/types.js';

/** Where a MonitoredTransport reports: a SessionTracker is one. */
export interface OperationSink {
  recordOperation(operation: OperationInfo, ids?: OperationIds): void;
  /** The tools the server offers; tools/list answers add to it, tools/call names are looked up in it. */
  readonly tools: ToolCatalog;
}

interface Pending {
  id: RequestId;
  method: string;
  toolName: string;
  /** The name a tools/call gave when the catalog did not know it yet (kept only until its answer). */
  unknownTool: unknown;
  startedAt: number;
  /** From the request's `_meta.traceparent`; undefined for most requests. */
  trace: TraceRef | undefined;
}

/**
 * Installs `ours` as the transport's `name` callback while whatever is assigned to it later
 * goes to `theirs` instead of replacing ours. A transport that keeps the callback behind an
 * accessor (the SDK v1 Streamable HTTP transport hands it to an inner one) gets ours through
 * that accessor first.
 */
function keepOwn(inner: Transport, name: 'onclose' | 'onerror', ours: (...args: never[]) => void, theirs: (fn: unknown) => void): void {
  let owner: object | null = inner;
  while (owner !== null && !Object.prototype.hasOwnProperty.call(owner, name)) owner = Object.getPrototypeOf(owner) as object | null;
  const setter = owner === null ? undefined : Object.getOwnPropertyDescriptor(owner, name)?.set;
  if (setter) setter.call(inner, ours);
  Object.defineProperty(inner, name, { configurable: true, enumerable: true, get: () => ours, set: theirs });
}

/** Shared by every instance: a default parameter written inline would be a closure per session. */
const monotonicNow = (): number => performance.now();

type Message = JsonRpcLike & { id?: RequestId };

/** What came of a liveness ping: the client answered, did not within the timeout, or the ping could not be sent. */
export type PingOutcome = 'answered' | 'silent' | 'unsent';

/** Ids of liveness pings: a prefix no SDK uses (they number their requests) and a counter. */
const PING_PREFIX = 'mcp-exporter-ping-';
let pingsSent = 0;

/**
 * Wraps an SDK transport to time every JSON-RPC request from arrival (onmessage) to its
 * response (send), for any transport: Streamable HTTP, SSE, a proxy's upstream. Requests
 * still pending when the transport closes are recorded as `_OTHER`. Notifications and the
 * server's own requests to the client are not operations. Methods outside the MCP
 * specification and tools the server never listed are recorded as `other`; the server's
 * tools/list answers teach the sink's catalog which tools exist.
 */
export class MonitoredTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];

  /**
   * The pending request, when there is one: most clients wait for each answer, so one
   * slot covers them without a Map per session (a Map costs about 280 bytes even empty).
   */
  private slot: Pending | undefined;
  /** Further requests pending at the same time; made the first time there are two. */
  private more: Map<RequestId, Pending> | undefined;
  /** Who the operations come from: the host sets its session's facts (one object for the session's life). */
  client: ClientFacts = UNKNOWN_CLIENT;
  /** The version the operations are served under: the session's negotiated one. */
  protocolVersion = '';
  /** The liveness ping waiting for its answer, if one is. */
  private pingWait: { id: string; answered: () => void } | undefined;

  constructor(
    readonly inner: Transport,
    private readonly transport: TransportKind,
    private readonly sink: OperationSink,
    private readonly now: () => number = monotonicNow,
  ) {
    inner.onmessage = (message, extra) => {
      const m = message as Message;
      // The answer to our own ping is ours: the server never asked, so it never sees it.
      if (this.pingWait !== undefined && m.method === undefined && m.id === this.pingWait.id) {
        this.pingWait.answered();
        return;
      }
      if (typeof m.method === 'string' && m.id !== undefined) {
        const method = mcpMethod(m.method);
        const toolName = method === 'tools/call' ? this.sink.tools.resolve(m.params?.name) : '';
        const unknownTool = toolName === OVERFLOW_LABEL ? m.params?.name : undefined;
        this.requested(m);
        this.begin({ id: m.id, method, toolName, unknownTool, startedAt: this.now(), trace: traceOf(m.params?._meta) });
      }
      this.onmessage?.(message, extra);
    };
    // The user's own onclose and onerror on the inner transport (the SDK README's
    // `transport.onclose = () => delete transports[sid]`) keep working, set before or after.
    let userOnerror = inner.onerror;
    let userOnclose = inner.onclose;
    const onerror = (error: Error): void => {
      userOnerror?.(error);
      this.onerror?.(error);
    };
    const onclose = (): void => {
      if (this.slot) this.finish(this.slot, OTHER_ERROR);
      if (this.more) for (const pending of this.more.values()) this.finish(pending, OTHER_ERROR);
      this.closed();
      userOnclose?.();
      this.onclose?.();
    };
    keepOwn(inner, 'onerror', onerror, (fn) => void (userOnerror = fn as typeof userOnerror));
    keepOwn(inner, 'onclose', onclose, (fn) => void (userOnclose = fn as typeof userOnclose));
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  /** Requests received and not yet answered. */
  get pendingCount(): number {
    return (this.slot ? 1 : 0) + (this.more?.size ?? 0);
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  /**
   * Answers every request still pending with a JSON-RPC error, so a client hears why
   * (at shutdown) instead of waiting for its own timeout. Recorded like any answer.
   */
  async answerPending(code: number, message: string): Promise<void> {
    const ids: RequestId[] = [];
    if (this.slot) ids.push(this.slot.id);
    if (this.more) ids.push(...this.more.keys());
    await Promise.all(ids.map((id) => this.send(jsonRpcError(id, code, message)).catch(() => {})));
  }

  /**
   * Sends the client an MCP `ping` and waits up to `timeoutMs` for its answer (an error
   * answer counts: the client is there). The server never sees the ping or its answer.
   * Only for a transport that can reach the client now (an open stream).
   */
  ping(timeoutMs: number): Promise<PingOutcome> {
    if (this.pingWait !== undefined) return Promise.resolve('unsent');
    const id = `${PING_PREFIX}${++pingsSent}`;
    return new Promise<PingOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.pingWait = undefined;
        resolve('silent');
      }, timeoutMs);
      timer.unref();
      this.pingWait = {
        id,
        answered: () => {
          clearTimeout(timer);
          this.pingWait = undefined;
          resolve('answered');
        },
      };
      this.inner.send({ jsonrpc: '2.0', id, method: 'ping' }).catch(() => {
        clearTimeout(timer);
        this.pingWait = undefined;
        resolve('unsent');
      });
    });
  }

  send(message: JsonRpcMessage, options?: TransportSendOptions): Promise<void> {
    const m = message as Message;
    if (m.method === undefined && m.id !== undefined) {
      const pending = this.slot?.id === m.id ? this.slot : this.more?.get(m.id);
      if (pending) {
        if (pending.method === 'tools/list' && m.result !== undefined) this.sink.tools.offer(m.result.tools);
        if (pending.method === 'initialize') this.negotiated(m.result?.protocolVersion);
        this.finish(pending, errorTypeOf(pending.method, m));
      }
    }
    return this.inner.send(message, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }

  /**
   * The version the server answered an initialize with: the session runs at it from now on,
   * the initialize included. The hosts guess it from the request (the SDK v1's own rule); a
   * server behind a proxy may negotiate lower, and its answer decides.
   */
  private negotiated(version: unknown): void {
    if (typeof version !== 'string') return;
    const bounded = boundedText(version, 32);
    this.protocolVersion = bounded;
    // The session's facts, which the tracker holds, show it too.
    if ('protocolVersion' in this.client) (this.client as { protocolVersion: string }).protocolVersion = bounded;
  }

  /** A request arrived, before the server has it: for a subclass that follows the session itself. */
  protected requested(_message: JsonRpcLike & { id?: RequestId }): void {}

  /** The transport closed; its pending requests are recorded already. */
  protected closed(): void {}

  private begin(pending: Pending): void {
    if (this.slot === undefined || this.slot.id === pending.id) this.slot = pending;
    else (this.more ??= new Map()).set(pending.id, pending);
  }

  private finish(pending: Pending, error: string): void {
    if (this.slot === pending) this.slot = undefined;
    else this.more?.delete(pending.id);
    this.sink.recordOperation({
      transport: this.transport,
      method: pending.method,
      toolName: pending.unknownTool !== undefined && error === '' ? this.sink.tools.confirm(pending.unknownTool) : pending.toolName,
      protocolVersion: this.protocolVersion,
      client: this.client,
      errorType: error,
      durationSeconds: (this.now() - pending.startedAt) / 1000,
      trace: pending.trace,
    }, { requestId: pending.id, sessionId: this.inner.sessionId });
  }
}
