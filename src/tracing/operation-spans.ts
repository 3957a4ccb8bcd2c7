import { createTraceState, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type BaggageEntry, type Context, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { VERSION } from '../version.js';
import type { TraceRef } from '../core/trace-context.js';
import type { OperationIds, OperationInfo, OperationSpanSink } from '../core/types.js';

/** W3C baggage (`k=v;props,k2=v2`) as OpenTelemetry entries; anything malformed is left out. */
function parseBaggage(text: string): Context {
  const entries: Record<string, BaggageEntry> = {};
  for (const member of text.split(',')) {
    const [pair = ''] = member.split(';');
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    try {
      entries[decodeURIComponent(pair.slice(0, at).trim())] = { value: decodeURIComponent(pair.slice(at + 1).trim()) };
    } catch {
      // A bad escape: that member is dropped, as the W3C rules allow.
    }
  }
  return propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage(entries));
}

/** The client's context from `_meta` (traceparent, tracestate, baggage): the parent of the server span. */
function parentOf(client: TraceRef | undefined): Context {
  if (client === undefined) return ROOT_CONTEXT;
  const base = client.baggage === undefined ? ROOT_CONTEXT : parseBaggage(client.baggage);
  return trace.setSpanContext(base, {
    traceId: client.traceId,
    spanId: client.spanId,
    traceFlags: client.flags ?? 0,
    isRemote: true,
    ...(client.state === undefined ? {} : { traceState: createTraceState(client.state) }),
  });
}

/** The OpenTelemetry API's global provider, a proxy for the SDK's once one is registered. */
interface ProxyProvider extends TracerProvider {
  getDelegateTracer(name: string, version?: string): Tracer | undefined;
}

/** Whether `provider` is the API's proxy (by its method: a second copy of the API has a class of its own). */
function isProxy(provider: TracerProvider): provider is ProxyProvider {
  return typeof (provider as Partial<ProxyProvider>).getDelegateTracer === 'function';
}

/**
 * A SERVER span for every answered MCP operation, by the OpenTelemetry MCP semantic
 * conventions: named `{mcp.method.name} {target}` (the tool of a tools/call), parented on the
 * context the client sent in `params._meta`, from the request's arrival to its answer. Made
 * through `@opentelemetry/api` only: the provider given, or the global one (none registered:
 * the API's no-op tracer, and nothing recorded). Spans are made once the answer is seen,
 * with the times it was measured at, so a tool's own spans are not their children.
 */
export class OperationSpans implements OperationSpanSink {
  /** The tracer spans go to; undefined while the global provider has no delegate (see tracerNow). */
  private tracer: Tracer | undefined;
  /** The global provider (the API's proxy) while no SDK is registered behind it. */
  private proxy: ProxyProvider | undefined;

  constructor(provider?: TracerProvider) {
    const chosen = provider ?? trace.getTracerProvider();
    if (isProxy(chosen)) this.proxy = chosen;
    else this.tracer = chosen.getTracer('mcp-exporter', VERSION);
  }

  /**
   * The tracer to record with, or undefined when a span would go nowhere: the global
   * provider with no SDK registered behind it (yet), whose tracer is the API's no-op one.
   * Asked on every operation, as the API's own proxy tracer asks, and kept once there is
   * one: an SDK registered after the monitor was made gets its spans from then on. Without
   * it, each operation built its attributes, name and parent context for a span the no-op
   * tracer drops: 1.5 µs of a call in a profile of the SDK v1 express app.
   */
  private tracerNow(): Tracer | undefined {
    if (this.tracer === undefined && this.proxy !== undefined) {
      this.tracer = this.proxy.getDelegateTracer('mcp-exporter', VERSION);
      if (this.tracer !== undefined) this.proxy = undefined;
    }
    return this.tracer;
  }

  /**
   * Records the operation's span; returns the span's trace when it is sampled (the
   * exemplar's link), or undefined (then the client's own trace, if any, stays the link).
   */
  record(operation: OperationInfo, ids: OperationIds): TraceRef | undefined {
    const tracer = this.tracerNow();
    if (tracer === undefined) return undefined;
    const end = Date.now();
    const attributes: Attributes = {
      'mcp.method.name': operation.method,
      'jsonrpc.request.id': String(ids.requestId),
      'network.transport': operation.transport === 'stdio' ? 'pipe' : 'tcp',
    };
    if (operation.toolName !== '') attributes['gen_ai.tool.name'] = operation.toolName;
    if (operation.protocolVersion !== '') attributes['mcp.protocol.version'] = operation.protocolVersion;
    if (ids.sessionId !== undefined) attributes['mcp.session.id'] = ids.sessionId;
    if (operation.errorType !== '') {
      attributes['error.type'] = operation.errorType;
      // A JSON-RPC error's code; a tool's own error (isError) and _OTHER have none.
      if (/^-?\d+$/.test(operation.errorType)) attributes['rpc.response.status_code'] = operation.errorType;
    }
    const span = tracer.startSpan(
      operation.toolName === '' ? operation.method : `${operation.method} ${operation.toolName}`,
      { kind: SpanKind.SERVER, startTime: end - operation.durationSeconds * 1000, attributes },
      parentOf(operation.trace),
    );
    if (operation.errorType !== '') span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(end);
    // The no-op tracer hands back the client's own context (or an invalid one): no span of ours.
    const made = span.spanContext();
    return (made.traceFlags & 1) === 1 && made.spanId !== operation.trace?.spanId ? { traceId: made.traceId, spanId: made.spanId } : undefined;
  }
}
