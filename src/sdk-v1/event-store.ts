import { randomUUID } from 'node:crypto';
import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

interface Stored {
  streamId: string;
  message: JSONRPCMessage;
}

/**
 * The SDK's event store for resumable streams, in memory and bounded: the newest `capacity`
 * events of all sessions are kept, the oldest dropped first. A client whose SSE stream drops
 * reconnects with `Last-Event-ID` and gets what it missed, as long as that is still kept.
 * Event ids carry a random part, so one session cannot name another's events.
 */
export class BoundedEventStore implements EventStore {
  /** In arrival order: a Map iterates as it was filled, so the oldest is first. */
  private readonly events = new Map<string, Stored>();
  private readonly prefix = randomUUID().slice(0, 8);
  private next = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError('capacity must be a positive whole number');
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const eventId = `${streamId}_${this.prefix}${(this.next++).toString(36)}`;
    this.events.set(eventId, { streamId, message });
    if (this.events.size > this.capacity) {
      const oldest = this.events.keys().next().value;
      if (oldest !== undefined) this.events.delete(oldest);
    }
    return eventId;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.events.get(eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const last = this.events.get(lastEventId);
    if (!last) return '';
    let after = false;
    for (const [eventId, stored] of this.events) {
      if (after && stored.streamId === last.streamId && Object.keys(stored.message).length > 0) await send(eventId, stored.message);
      if (eventId === lastEventId) after = true;
    }
    return last.streamId;
  }

  /** Events kept now. */
  get size(): number {
    return this.events.size;
  }
}
