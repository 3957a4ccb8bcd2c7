import type { ConnectionStart } from './session-tracker.js';
import type { ClientFacts, ConnectionInfo, ConnectionMonitor, OperationInfo } from './types.js';

/** One client as /api/mcp/clients shows it. */
export interface ClientInfo extends ClientFacts {
  /** Every protocol version it used, oldest first (at most 8). */
  protocolVersions: string[];
  /** JSON-RPC requests and connections it made. */
  requests: number;
  /** ISO 8601. */
  firstSeen: string;
  /** ISO 8601. */
  lastSeen: string;
}

export interface RecentClientsOptions {
  /** Clients kept at most; past it, the one seen longest ago goes. @default 1000 */
  limit?: number;
  /** A client not seen for this long is forgotten, in ms. @default 3600000 (an hour) */
  windowMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** A connection's facts object with the entry it was found under (see RecentClients.entryKey). */
type Remembered = ClientFacts & { [key: symbol]: ClientEntry | undefined };

/** Protocol versions kept per client: there are six revisions so far. */
const MAX_VERSIONS = 8;

class ClientEntry {
  readonly protocolVersions: string[] = [];
  requests = 0;
  lastSeen: number;
  /** Set when the entry is dropped, so a facts object that still points here makes a new one. */
  gone = false;
  /** The facts object of its last request found by key (see RecentClients.see). */
  lastFacts: ClientFacts | undefined;

  constructor(
    readonly key: string,
    readonly facts: ClientFacts,
    readonly firstSeen: number,
  ) {
    this.lastSeen = firstSeen;
  }

  toInfo(): ClientInfo {
    const { clientName, clientVersion, clientIP, userAgent } = this.facts;
    return {
      clientName,
      clientVersion,
      clientIP,
      userAgent,
      protocolVersions: [...this.protocolVersions],
      requests: this.requests,
      firstSeen: new Date(this.firstSeen).toISOString(),
      lastSeen: new Date(this.lastSeen).toISOString(),
    };
  }
}

/**
 * The clients active recently, sessions or not: one entry per name, version, masked address
 * and user agent, with the protocol versions it used. It is how a server whose clients only
 * send requests that stand alone (2026-07-28) sees who they are. Bounded in size; a request
 * costs one WeakMap lookup when its facts object was seen before (a session's always is), and
 * a lookup by key when it is one made for that request alone.
 */
export class RecentClients implements ConnectionMonitor {
  private readonly entries = new Map<string, ClientEntry>();
  /** Facts objects of clients that are no connection, seen twice in a row (a stdio client's): old objects by then. */
  private readonly byFacts = new WeakMap<ClientFacts, ClientEntry>();
  /**
   * Where a connection's facts object keeps its entry: a property under a symbol of this
   * instance's own (two instances on one tracker see the same facts). Not the WeakMap: a
   * session's facts are a young object, and a young key in an old WeakMap takes V8's
   * ephemeron write barrier and the table's upkeep in the young-generation collections
   * after it, for every session.
   */
  private readonly entryKey = Symbol('recent-client');
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(options: RecentClientsOptions = {}) {
    this.limit = options.limit ?? 1000;
    this.windowMs = options.windowMs ?? 3_600_000;
    this.now = options.now ?? Date.now;
    if (!Number.isInteger(this.limit) || this.limit < 1) throw new RangeError(`RecentClients limit must be a whole number >= 1, got ${String(this.limit)}`);
  }

  onOperation = (operation: OperationInfo): void => {
    this.see(operation.client, operation.protocolVersion);
  };

  /** A listen stream is a client's request too; a session's first request is its initialize operation. */
  onConnectionEstablished = (connection: ConnectionInfo): void => {
    if (connection.kind === 'subscription') this.see(connection, connection.protocolVersion);
  };

  /** Records one request of `client` under `protocolVersion`. */
  see(client: ClientFacts, protocolVersion: string): void {
    const now = this.now();
    const connection = (client as Partial<ConnectionStart>).id !== undefined;
    let entry = connection ? (client as Remembered)[this.entryKey] : this.byFacts.get(client);
    if (entry === undefined || entry.gone) {
      const key = `${client.clientName}\u0000${client.clientVersion}\u0000${client.clientIP}\u0000${client.userAgent}`;
      entry = this.entries.get(key);
      if (entry === undefined) {
        if (this.entries.size >= this.limit) this.makeRoom(now);
        entry = new ClientEntry(key, { clientName: client.clientName, clientVersion: client.clientVersion, clientIP: client.clientIP, userAgent: client.userAgent }, now);
        this.entries.set(key, entry);
      }
      // A connection's facts are one object for its life (a session's ConnectionStart, known by
      // its `id`; a stdio client's, seen twice in a row): found by identity from then on, even
      // while many sessions of one client take turns (16 of them made every request build the
      // key and look it up). A connection's keeps its entry itself; a stdio client's goes in
      // the WeakMap, old by its second request. One made for a single request (a 2026-07-28
      // request's, a stateless one's) is not put in the WeakMap: a young key in an old WeakMap
      // takes V8's write barrier and the table's upkeep in every scavenge, a tenth of the
      // monitor's own time per call around an SDK v2 handler (perf), more than the lookup by key.
      if (connection) {
        if (Object.isExtensible(client)) (client as Remembered)[this.entryKey] = entry;
      } else if (entry.lastFacts === client) this.byFacts.set(client, entry);
      else entry.lastFacts = client;
    }
    entry.lastSeen = now;
    entry.requests += 1;
    if (protocolVersion !== '' && !entry.protocolVersions.includes(protocolVersion) && entry.protocolVersions.length < MAX_VERSIONS) {
      entry.protocolVersions.push(protocolVersion);
    }
  }

  /** Clients seen within the window, most recently seen first. */
  list(limit = this.limit): ClientInfo[] {
    const cutoff = this.now() - this.windowMs;
    return [...this.entries.values()]
      .filter((entry) => entry.lastSeen >= cutoff)
      .sort((a, b) => b.lastSeen - a.lastSeen)
      .slice(0, limit)
      .map((entry) => entry.toInfo());
  }

  /** Clients seen within the window. */
  get size(): number {
    const cutoff = this.now() - this.windowMs;
    let count = 0;
    for (const entry of this.entries.values()) if (entry.lastSeen >= cutoff) count += 1;
    return count;
  }

  get capacity(): number {
    return this.limit;
  }

  get windowSeconds(): number {
    return this.windowMs / 1000;
  }

  /** Drops every client outside the window; if none is, the one seen longest ago. O(n), once per new client past the limit. */
  private makeRoom(now: number): void {
    const cutoff = now - this.windowMs;
    let oldest: ClientEntry | undefined;
    for (const entry of this.entries.values()) {
      if (entry.lastSeen < cutoff) this.drop(entry);
      else if (oldest === undefined || entry.lastSeen < oldest.lastSeen) oldest = entry;
    }
    if (this.entries.size >= this.limit && oldest) this.drop(oldest);
  }

  private drop(entry: ClientEntry): void {
    entry.gone = true;
    this.entries.delete(entry.key);
  }
}
