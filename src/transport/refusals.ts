/**
 * How a refused request is named, by every way in alike (the SDK v1 host for its SDK's
 * refusals, the wire monitor for any server's): by the answer's status, else by the JSON-RPC
 * error code in its body.
 */
import type { RejectReason } from '../core/types.js';

/** What naming a refusal needs to know of the request. */
export interface RefusedRequest {
  /** Upper case. */
  httpMethod: string;
  sessionId: string | undefined;
  /** Its JSON-RPC messages (methods are read). */
  messages: readonly { method?: unknown }[];
  /** Whether the body was JSON at all. */
  parsed: boolean;
  /** Of the 2026-07-28 era. */
  modern: boolean;
}

/**
 * The refusals a status names by itself, or undefined when the reason is in the body.
 * 405 and 406 are answers a server gives on purpose (a server without a standalone stream
 * answers every SDK v1 client's GET with 405), not bad input: reasons of their own.
 */
export function refusalOfStatus(status: number, head: { header(name: string): string | undefined }, hadSessionId: boolean): RejectReason | undefined {
  switch (status) {
    case 401:
      return 'unauthorized';
    case 403:
      // The server's auth said no (the SDK's bearer auth answers with a challenge); else its Host/Origin check.
      return head.header('www-authenticate') !== undefined ? 'unauthorized' : 'forbidden_host';
    case 404:
      return hadSessionId ? 'unknown_session' : undefined;
    case 405:
      return 'method_not_allowed';
    case 406:
      return 'not_acceptable';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'invalid_request';
    case 503:
      // At capacity, and saying when to come back: a session refused, not a server that failed.
      return head.header('retry-after') !== undefined ? 'too_many_sessions' : undefined;
    default:
      return undefined;
  }
}

/** JSON-RPC codes of the 2026-07-28 refusals, and the reason each counts as. */
const ERA_REFUSALS: ReadonlyMap<number, RejectReason> = new Map<number, RejectReason>([
  [-32022, 'unsupported_protocol_version'],
  [-32020, 'header_mismatch'],
  [-32021, 'missing_capability'],
]);

/** What a refused answer's body says: its JSON-RPC error code, and whether it speaks of a session. */
export interface RefusalBody {
  code: number | undefined;
  /** The text names a session ("Mcp-Session-Id header is required", "No valid session ID provided"). */
  mentionsSession: boolean;
}

/**
 * Codes that, in an error answering the request's own id, are the operation's outcome rather
 * than a refusal, whatever the HTTP status: the SDK v2 answers an unknown method with 404 and
 * -32601 where the SDK v1 answers 200, and both are the same client mistake.
 */
const OPERATION_ERRORS: ReadonlySet<number> = new Set([-32601, -32602, -32603]);

export function isOperationError(code: number | undefined): boolean {
  return code !== undefined && OPERATION_ERRORS.has(code);
}

/**
 * A refusal's reason from its body: parse errors, invalid requests and the 2026-07-28
 * refusals by their codes; a 2025 request refused 400 for having no session (anything but
 * initialize, without Mcp-Session-Id, answered with text that speaks of a session) as
 * `missing_session`; the rest as `invalid_request` (`parse_error` when the request body was
 * not JSON at all).
 */
export function refusalOfBody(read: RefusedRequest, status: number, body: RefusalBody): RejectReason {
  const { code } = body;
  if (code === -32700) return 'parse_error';
  const era = code === undefined ? undefined : ERA_REFUSALS.get(code);
  if (era !== undefined) return era;
  if (code === -32600 || code === -32601 || code === -32602) return 'invalid_request';
  if (status === 400 && body.mentionsSession && read.sessionId === undefined && !read.modern && wantsSession(read)) return 'missing_session';
  if (read.httpMethod === 'POST' && !read.parsed) return 'parse_error';
  return 'invalid_request';
}

/** A 2025 request that only a session can take: a GET or DELETE, or a POST of anything but initialize. */
function wantsSession(read: RefusedRequest): boolean {
  if (read.httpMethod !== 'POST') return true;
  return read.messages.length > 0 && !read.messages.some((message) => message.method === 'initialize');
}
