import { createHash } from 'node:crypto';

/**
 * The opaque reference the admin API, events, history and logs give a session: enough to
 * follow one session everywhere, useless as `Mcp-Session-Id` (a session id is a
 * credential, and the reference cannot be turned back into one).
 */
export function sessionRef(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex').slice(0, 12);
}
