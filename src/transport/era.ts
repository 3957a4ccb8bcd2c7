import { isModernVersion } from '../core/protocol-versions.js';

/** Where a 2026-07-28 request names its protocol version and its client: `params._meta`. */
export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
export const META_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';

/** The protocol version a JSON-RPC message claims in its `_meta` envelope (2026-07-28 on), if it claims one. */
export function claimedVersion(message: unknown): string | undefined {
  const claim = (message as { params?: { _meta?: Record<string, unknown> } } | null | undefined)?.params?._meta?.[META_PROTOCOL_VERSION];
  return typeof claim === 'string' ? claim : undefined;
}

/**
 * Which era a request belongs to, decided in this one place: the 2026-07-28 era when its
 * MCP-Protocol-Version header names that revision or a later one, or when its body (any
 * message of a batch) claims a version in `_meta`; the 2025 era (initialize, sessions)
 * otherwise, GET and DELETE without such a header included.
 */
export function isModernRequest(protocolVersionHeader: string | undefined, body: unknown): boolean {
  if (protocolVersionHeader !== undefined && isModernVersion(protocolVersionHeader)) return true;
  if (Array.isArray(body)) return body.some((message) => claimedVersion(message) !== undefined);
  return claimedVersion(body) !== undefined;
}
