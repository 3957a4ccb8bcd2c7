import { describe, expect, it } from 'vitest';
import { SessionTracker } from '../../src/core/session-tracker.js';
import type { ClosedConnectionInfo } from '../../src/core/types.js';
import { ListenStreams } from '../../src/wire/listen-streams.js';

const CLIENT = { clientName: 'c', clientVersion: '1', clientIP: '127.0.0.0', userAgent: '' };
/** The listen request a stream answers (its span's). */
const REQUEST = { id: 1, startedAt: 0, trace: undefined };

function rig() {
  const tracker = new SessionTracker();
  const closed: ClosedConnectionInfo[] = [];
  tracker.subscribe({ onConnectionClosed: (_id, _ms, info) => closed.push(info) });
  return { tracker, closed, streams: new ListenStreams(tracker, () => 0) };
}

describe('ListenStreams', () => {
  it('is a subscription from its head to its end: client_delete when the client left, server_shutdown when the server ended it', () => {
    const { tracker, closed, streams } = rig();
    const left = streams.follow(CLIENT, '2026-07-28', REQUEST);
    const ended = streams.follow(CLIENT, '2026-07-28', REQUEST);
    expect([tracker.activeOf('subscription'), tracker.totalOf('subscription')]).toEqual([2, 2]);
    left.cancel?.();
    left.end?.();
    ended.end?.();
    expect(closed.map((c) => [c.kind, c.reason, c.protocolVersion])).toEqual([
      ['subscription', 'client_delete', '2026-07-28'],
      ['subscription', 'server_shutdown', '2026-07-28'],
    ]);
  });

  it('at shutdown waits for the streams the handler ends by itself, not for the grace time, then cuts the rest', async () => {
    const { closed, streams } = rig();
    const ending = streams.follow(CLIENT, '2026-07-28', REQUEST);
    ending.hold?.(() => {});
    const started = Date.now();
    // The handler sends its last frame and ends the stream once shutdown began.
    const closing = streams.closeAll(60_000);
    queueMicrotask(() => ending.end?.());
    await closing;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(closed.map((c) => c.reason)).toEqual(['server_shutdown']);

    const { streams: other, closed: otherClosed } = rig();
    const stuck = other.follow(CLIENT, '2026-07-28', REQUEST);
    let cut = 0;
    stuck.hold?.(() => {
      cut += 1;
      stuck.end?.();
    });
    await other.closeAll(0);
    expect([cut, otherClosed.map((c) => c.reason)]).toEqual([1, ['server_shutdown']]);
  });
});
