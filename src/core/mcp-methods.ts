import { OVERFLOW_LABEL } from './label-cap.js';

/** Client-to-server request methods of the MCP specification, in every revision. */
const SPEC_METHODS = [
  // 2026-07-28: discovery instead of the handshake, and the listen stream.
  'server/discover',
  'subscriptions/listen',
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'tasks/get',
  'tasks/list',
  'tasks/result',
  'tasks/cancel',
] as const;

/** Each method by itself, so a lookup hands back this module's own string, never the request's. */
const CANONICAL: ReadonlyMap<string, string> = new Map(SPEC_METHODS.map((method) => [method, method]));

/** Client-to-server request methods of the MCP specification. */
export const MCP_METHODS: ReadonlySet<string> = new Set(SPEC_METHODS);

/**
 * The method as the tracker records it: a method of the MCP specification as it is, any
 * other (`bogus/method`, a server's private extension) as `other`, so no client can
 * choose what becomes a label value.
 */
export function mcpMethod(method: string): string {
  return CANONICAL.get(method) ?? OVERFLOW_LABEL;
}
