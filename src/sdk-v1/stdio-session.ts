import { randomUUID } from 'node:crypto';
import { boundedText } from '../core/bounded-text.js';
import type { SessionTracker } from '../core/session-tracker.js';
import { sessionRef } from '../core/session-ref.js';
import type { CloseReason } from '../core/types.js';
import type { JsonRpcLike } from '../transport/jsonrpc-outcome.js';
import { MonitoredTransport } from './monitored-transport.js';
import type { JsonRpcMessage, McpTransport as Transport, RequestId, TransportSendOptions } from './transport-shape.js';

/**
 * A server's stdio transport (or any transport with one client for its life), monitored in
 * process: the client is a session (transport="stdio") from its answered initialize until
 * the transport closes, every request an operation. What `McpMonitor.stdio()` returns.
 */
export class MonitoredStdioTransport extends MonitoredTransport {
  private readonly ref = sessionRef(randomUUID());
  private initializeId: RequestId | undefined;
  private established = false;
  private reason: CloseReason = 'transport_error';

  /**
   * `input` is the stream the transport reads (process.stdin by default): when it ends, the
   * client has ended the session (the MCP way to end a stdio session), recorded as
   * client_delete, and the transport is closed, which the SDK's stdio transport does not do
   * by itself.
   */
  constructor(
    inner: Transport,
    private readonly tracker: SessionTracker,
    input: NodeJS.ReadableStream | undefined = process.stdin,
  ) {
    super(inner, 'stdio', tracker);
    input?.once('end', () => {
      this.reason = 'client_delete';
      void inner.close().catch(() => {});
    });
  }

  protected override requested(message: JsonRpcLike & { id?: RequestId }): void {
    if (message.method === 'initialize' && !this.established) {
      const params = message.params as { clientInfo?: { name?: unknown; version?: unknown }; protocolVersion?: unknown } | undefined;
      this.initializeId = message.id;
      this.client = {
        clientName: boundedText(params?.clientInfo?.name),
        clientVersion: boundedText(params?.clientInfo?.version),
        clientIP: 'unknown',
        userAgent: '',
      };
    } else if (this.established) {
      this.tracker.touch(this.ref);
    }
  }

  override send(message: JsonRpcMessage, options?: TransportSendOptions): Promise<void> {
    const m = message as JsonRpcLike & { id?: RequestId };
    if (this.initializeId !== undefined && m.method === undefined && m.id === this.initializeId) {
      this.initializeId = undefined;
      const version = (m.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
      if (typeof version === 'string') {
        this.protocolVersion = boundedText(version, 32);
        this.established = true;
        this.tracker.establish({ id: this.ref, transport: 'stdio', protocolVersion: this.protocolVersion, ...this.client });
      }
    }
    return super.send(message, options);
  }

  /** Closing it from the server's side ends the session as server_shutdown. */
  override close(): Promise<void> {
    if (this.reason === 'transport_error') this.reason = 'server_shutdown';
    return super.close();
  }

  protected override closed(): void {
    if (this.established) this.tracker.close(this.ref, this.reason);
    this.established = false;
  }
}
