/** The trace an MCP request belongs to, from the W3C trace context its client sent in `params._meta.traceparent`. */
export interface TraceRef {
  /** 32 lower-case hex digits. */
  traceId: string;
  /** 16 lower-case hex digits: the client's span the request was sent from. */
  spanId: string;
  /** The W3C trace flags (1: sampled); absent on a ref that came from no traceparent. */
  flags?: number;
  /** `_meta.tracestate` and `_meta.baggage` as the client sent them, when it did. */
  state?: string;
  baggage?: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/**
 * Reads `traceparent` from a request's `_meta`, as the OpenTelemetry MCP conventions and the
 * 2026-07-28 revision put it: `00-<trace id>-<span id>-<flags>`. A version other than 00 is
 * read the same way (the W3C rule for versions it does not know), except ff; anything
 * malformed, or an all-zero id, is no trace.
 */
export function traceOf(meta: Record<string, unknown> | undefined): TraceRef | undefined {
  const value = meta?.traceparent;
  if (typeof value !== 'string' || value.length > 512) return undefined;
  const match = TRACEPARENT.exec(value);
  if (!match || match[1] === 'ff' || (match[1] === '00' && match[5] !== undefined)) return undefined;
  const traceId = match[2] as string;
  const spanId = match[3] as string;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  const ref: TraceRef = { traceId, spanId, flags: Number.parseInt(match[4] as string, 16) };
  const state = meta?.tracestate;
  if (typeof state === 'string' && state.length <= 512) ref.state = state;
  const baggage = meta?.baggage;
  if (typeof baggage === 'string' && baggage.length <= 8192) ref.baggage = baggage;
  return ref;
}
