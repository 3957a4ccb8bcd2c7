import type { ClientFacts } from '../core/types.js';
import type { ExchangeFacts } from './exchange.js';

/** Who a stateless client is and the version it negotiated, as its initialize said. */
export interface KnownClient {
  client: ClientFacts;
  protocolVersion: string;
}

export interface StatelessClientsOptions {
  /** Peers remembered at most; past it, the one seen longest ago is forgotten. @default 1000 */
  limit?: number;
  /** A peer not seen for this long is forgotten, in ms. @default 1800000 */
  windowMs?: number;
  /** Epoch milliseconds. */
  now: () => number;
}

interface Remembered extends KnownClient {
  seenAt: number;
}

/**
 * The clients of a stateless 2025 server, known again after their initialize. Such a server
 * gives no session id, and the requests after initialize name no client; without this they
 * would count under no name while the initialize counted under the client's own. A request
 * is taken for the client that initialized last on the same connection, or else from the
 * same peer (masked address and user agent). Requests that name their
 * client (2026-07-28), sessions and initialize itself never ask.
 */
export class StatelessClients {
  private readonly byConnection = new WeakMap<object, KnownClient>();
  /** By peer key, least recently seen first. */
  private readonly byPeer = new Map<string, Remembered>();
  private readonly limit: number;
  private readonly windowMs: number;

  constructor(private readonly options: StatelessClientsOptions) {
    this.limit = options.limit ?? 1000;
    this.windowMs = options.windowMs ?? 1_800_000;
  }

  /** A stateless server answered this peer's initialize. */
  remember(http: ExchangeFacts, known: KnownClient): void {
    if (http.connection !== undefined) this.byConnection.set(http.connection, known);
    const peer = peerOf(http);
    if (peer === undefined) return;
    this.byPeer.delete(peer);
    this.byPeer.set(peer, { ...known, seenAt: this.options.now() });
    if (this.byPeer.size > this.limit) {
      const oldest = this.byPeer.keys().next().value;
      if (oldest !== undefined) this.byPeer.delete(oldest);
    }
  }

  /** The client a request that names none comes from, if a stateless initialize told. */
  recall(http: ExchangeFacts): KnownClient | undefined {
    if (http.connection !== undefined) {
      const known = this.byConnection.get(http.connection);
      if (known !== undefined) return known;
    }
    const peer = peerOf(http);
    if (peer === undefined) return undefined;
    const remembered = this.byPeer.get(peer);
    if (remembered === undefined) return undefined;
    const now = this.options.now();
    this.byPeer.delete(peer);
    if (now - remembered.seenAt > this.windowMs) return undefined;
    // Seen now: the last to be forgotten.
    remembered.seenAt = now;
    this.byPeer.set(peer, remembered);
    return remembered;
  }
}

/** The peer's key: its (masked) address and user agent; none when the address is not known. */
function peerOf(http: ExchangeFacts): string | undefined {
  return http.clientIP === 'unknown' ? undefined : `${http.clientIP}\u0000${http.userAgent}`;
}
