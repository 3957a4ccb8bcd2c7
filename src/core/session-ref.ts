import * as crypto from 'node:crypto';

/**
 * SHA-256 of a text, in hex: Node's one-shot `crypto.hash` where it has one (Node 20.12 and
 * later; a third of the time of a Hash object, which a session's start paid), else a Hash.
 */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function' ? (text) => crypto.hash('sha256', text, 'hex') : (text) => crypto.createHash('sha256').update(text).digest('hex');

/**
 * The opaque reference the admin API, events, history and logs give a session: enough to
 * follow one session everywhere, useless as `Mcp-Session-Id` (a session id is a
 * credential, and the reference cannot be turned back into one).
 */
export function sessionRef(sessionId: string): string {
  return sha256Hex(sessionId).slice(0, 12);
}
