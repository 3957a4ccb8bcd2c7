import type { ClosedConnectionInfo, ConnectionMonitor } from './types.js';

/**
 * The most recent closed sessions, in a fixed-size ring: adding is O(1) and the memory
 * bound holds however many sessions come and go.
 */
export class ConnectionHistory implements ConnectionMonitor {
  private readonly ring: (ClosedConnectionInfo | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`history capacity must be a whole number >= 0, got ${String(capacity)}`);
    }
    this.ring = new Array<ClosedConnectionInfo | undefined>(capacity);
  }

  onConnectionClosed = (_id: string, _durationMs: number, connection: ClosedConnectionInfo): void => {
    if (this.capacity === 0) return;
    this.ring[this.next] = connection;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  };

  /** Closed sessions kept now. */
  get size(): number {
    return this.count;
  }

  /** Up to `limit` closed sessions, newest first. */
  newest(limit = this.capacity): ClosedConnectionInfo[] {
    const out: ClosedConnectionInfo[] = [];
    const n = Math.min(limit, this.count);
    for (let i = 1; i <= n; i++) {
      const entry = this.ring[(this.next - i + this.capacity) % this.capacity];
      if (entry) out.push(entry);
    }
    return out;
  }
}
