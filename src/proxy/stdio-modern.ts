import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../core/logger.js';
import { JSONRPC, jsonRpcError, jsonRpcErrorResponse } from '../transport/http-answers.js';
import type { FetchHandler, FetchOptions } from '../wire/exchange.js';
import type { JsonRpcLike } from '../transport/jsonrpc-outcome.js';
import type { UpstreamWatch } from './upstream-watch.js';

const SUBSCRIPTION_META = 'io.modelcontextprotocol/subscriptionId';
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform' };

type Message = JsonRpcLike & { jsonrpc?: string; params?: Record<string, unknown> & { _meta?: Record<string, unknown>; progressToken?: unknown } };

/** A request sent to the child: where its answer and its notifications go. */
interface Outstanding {
  /** The id the client gave it, put back on everything that goes to the client. */
  clientId: string | number;
  /** Its progress token, when it asked for progress. */
  progressToken: unknown;
  /** Takes every message for this request; returns false once nobody listens. */
  deliver: (message: Message) => void;
  fail: (reason: string) => void;
}

/**
 * 2026-07-28 requests relayed to one stdio MCP server (an SDK v2 server speaks that era over
 * stdio: each request carries its envelope). The child starts with the first request and
 * again after it exits. Request ids are made unique on the way in and put back on the way
 * out; a request whose notifications (progress) come before its answer is answered as an
 * SSE stream, like the SDK v2's HTTP handler does; `subscriptions/listen` is a stream of
 * the child's notifications for it until the client leaves.
 */
export class StdioModernRelay implements FetchHandler {
  private child: Transport | undefined;
  private starting: Promise<Transport> | undefined;
  private readonly outstanding = new Map<string, Outstanding>();
  private next = 0;
  private closing = false;
  /** Told whether the command starts and answers: set once the monitor is there. */
  watch: UpstreamWatch | undefined;

  constructor(
    private readonly start: () => Transport,
    private readonly command: string,
    private readonly logger: Logger,
  ) {}

  async fetch(request: Request, options?: FetchOptions): Promise<Response> {
    if (request.method.toUpperCase() !== 'POST') return errorResponse(405, null, 'Method not allowed.', { Allow: 'POST' });
    const message = options?.parsedBody as Message | undefined;
    if (typeof message !== 'object' || message === null || Array.isArray(message) || typeof message.method !== 'string') {
      return errorResponse(400, null, 'Bad Request: the body is not a JSON-RPC request or notification', {}, JSONRPC.invalidRequest);
    }
    let child: Transport;
    try {
      child = await this.ensureChild();
    } catch (error) {
      this.watch?.failed('start_failed', true);
      // The reason as the 2025 side says it: the error's code (ENOENT, EACCES) when it has one.
      const reason = (error as { code?: unknown }).code ?? (error instanceof Error ? error.message : String(error));
      return errorResponse(502, message.id ?? null, `Bad Gateway: the stdio MCP server (${this.command}) could not start: ${String(reason)}`);
    }
    if (message.id === undefined || message.id === null) {
      await child.send(message as JSONRPCMessage).catch(() => {});
      return new Response(null, { status: 202 });
    }
    const ourId = `mcp-exporter-${this.next++}`;
    const listen = message.method === 'subscriptions/listen';
    return new Promise<Response>((resolve) => {
      let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
      const encoder = new TextEncoder();
      const frame = (m: Message): Uint8Array => encoder.encode(`event: message\ndata: ${JSON.stringify(m)}\n\n`);
      const done = (): void => {
        this.outstanding.delete(ourId);
        request.signal.removeEventListener('abort', aborted);
      };
      const openStream = (): void => {
        resolve(
          new Response(
            new ReadableStream<Uint8Array>({
              start: (controller) => void (stream = controller),
              cancel: () => aborted(),
            }),
            { status: 200, headers: SSE_HEADERS },
          ),
        );
      };
      const aborted = (): void => {
        if (!this.outstanding.has(ourId)) return;
        done();
        // Tell the child the client is gone, as the client itself would.
        void child.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: ourId } } as JSONRPCMessage).catch(() => {});
        try {
          stream?.close();
        } catch {
          // already closed
        }
      };
      request.signal.addEventListener('abort', aborted, { once: true });
      this.outstanding.set(ourId, {
        clientId: message.id as string | number,
        progressToken: message.params?._meta?.progressToken,
        deliver: (m) => {
          const final = m.method === undefined;
          if (!stream && final) {
            done();
            resolve(Response.json(m));
            return;
          }
          if (!stream) openStream();
          stream?.enqueue(frame(m));
          if (final) {
            done();
            stream?.close();
          }
        },
        fail: (reason) => {
          done();
          const error = jsonRpcError(message.id as string | number, JSONRPC.serverError, reason);
          if (stream) {
            stream.enqueue(frame(error as Message));
            stream.close();
          } else resolve(Response.json(error, { status: 502 }));
        },
      });
      if (listen) openStream();
      child.send({ ...message, id: ourId } as JSONRPCMessage).catch((error: unknown) => {
        this.outstanding.get(ourId)?.fail(`Bad Gateway: relaying to the stdio MCP server (${this.command}) failed: ${error instanceof Error ? error.message : String(error)}`);
      });
    });
  }

  /** Ends the child; every open request and stream gets an error answer. */
  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.closing = true;
    this.failAll(`the stdio MCP server (${this.command}) is shutting down`);
    await child?.close().catch(() => {});
  }

  private ensureChild(): Promise<Transport> {
    if (this.child) return Promise.resolve(this.child);
    this.starting ??= (async () => {
      const child = this.start();
      child.onmessage = (message) => this.fromChild(message as Message);
      child.onclose = () => {
        // A child that never started was counted as start_failed; one that ran has exited.
        if (this.child === child) {
          this.child = undefined;
          if (!this.closing) this.watch?.failed('child_exited', false);
        }
        this.failAll(`Bad Gateway: the stdio MCP server (${this.command}) exited`);
      };
      child.onerror = (error) => this.logger.debug({ err: error.message }, 'stdio transport reported an error');
      try {
        await child.start();
      } finally {
        this.starting = undefined;
      }
      this.child = child;
      return child;
    })();
    return this.starting;
  }

  /** Routes a message of the child: an answer by its id, a notification by its subscription or progress token. */
  private fromChild(message: Message): void {
    this.watch?.answered();
    if (message.method === undefined && message.id !== undefined && message.id !== null) {
      const pending = this.outstanding.get(String(message.id));
      if (pending) pending.deliver({ ...message, id: pending.clientId, result: withSubscriptionId(message.result, pending.clientId) as Message['result'] });
      return;
    }
    const meta = message.params?._meta;
    const subscription = typeof meta?.[SUBSCRIPTION_META] === 'string' ? this.outstanding.get(meta[SUBSCRIPTION_META]) : undefined;
    if (subscription) {
      subscription.deliver({ ...message, params: { ...message.params, _meta: { ...meta, [SUBSCRIPTION_META]: subscription.clientId } } });
      return;
    }
    const token = message.params?.progressToken;
    if (token !== undefined) {
      for (const pending of this.outstanding.values()) if (pending.progressToken === token) return pending.deliver(message);
    }
  }

  private failAll(reason: string): void {
    for (const pending of [...this.outstanding.values()]) pending.fail(reason);
  }
}

/** A listen stream's last result names its subscription by the relay's id: put the client's back. */
function withSubscriptionId(result: unknown, clientId: string | number): unknown {
  const meta = (result as { _meta?: Record<string, unknown> } | undefined)?._meta;
  if (!meta || meta[SUBSCRIPTION_META] === undefined) return result;
  return { ...(result as object), _meta: { ...meta, [SUBSCRIPTION_META]: clientId } };
}

function errorResponse(status: number, id: string | number | null, message: string, headers: Record<string, string> = {}, code: number = JSONRPC.serverError): Response {
  return jsonRpcErrorResponse(status, id, code, message, headers);
}
