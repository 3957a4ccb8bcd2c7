import { describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../src/core/logger.js';
import { SessionTracker, type SessionStart } from '../../src/core/session-tracker.js';
import type { ClosedConnectionInfo, ConnectionInfo, ConnectionMonitor, ConnectionStats, RejectReason } from '../../src/core/types.js';

const T0 = Date.parse('2025-01-02T03:04:05.000Z');

/** A clock the test moves by hand. */
function manualClock(start = T0): { now: () => number; advance: (ms: number) => void; set: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = ms;
    },
  };
}

function start(id: string, overrides: Partial<SessionStart> = {}): SessionStart {
  return {
    id,
    clientIP: '203.0.113.0',
    userAgent: 'test-agent/1.0',
    transport: 'streamable_http',
    clientName: 'test-client',
    clientVersion: '1.2.3',
    protocolVersion: '2025-06-18',
    ...overrides,
  };
}

function info(id: string, connectedAt: string, lastActivity: string, requestCount: number, overrides: Partial<ConnectionInfo> = {}): ConnectionInfo {
  return {
    id,
    kind: 'session',
    clientIP: '203.0.113.0',
    userAgent: 'test-agent/1.0',
    connectedAt,
    lastActivity,
    requestCount,
    transport: 'streamable_http',
    clientName: 'test-client',
    clientVersion: '1.2.3',
    protocolVersion: '2025-06-18',
    ...overrides,
  };
}

interface LoggedCall {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: object;
  message: string;
}

function recordingLogger(): { logger: Logger; calls: LoggedCall[] } {
  const calls: LoggedCall[] = [];
  const logger: Logger = {
    debug: (fields, message) => calls.push({ level: 'debug', fields, message }),
    info: (fields, message) => calls.push({ level: 'info', fields, message }),
    warn: (fields, message) => calls.push({ level: 'warn', fields, message }),
    error: (fields, message) => calls.push({ level: 'error', fields, message }),
  };
  return { logger, calls };
}

/** A monitor that writes every callback into one ordered log. */
function loggingMonitor(log: string[], name = 'm'): ConnectionMonitor {
  return {
    onConnectionEstablished: (c) => log.push(`${name}:established:${c.id}`),
    onConnectionClosed: (id, durationMs, c) => log.push(`${name}:closed:${id}:${durationMs}:${c.reason}`),
    onConnectionChange: (s) => log.push(`${name}:change:${s.activeConnections}/${s.totalConnections}`),
    onRequestRejected: (reason) => log.push(`${name}:rejected:${reason}`),
  };
}

describe('SessionTracker counts', () => {
  it('starts empty', () => {
    const tracker = new SessionTracker({ now: manualClock().now });
    expect(tracker.activeCount).toBe(0);
    expect(tracker.totalCount).toBe(0);
    expect(tracker.getConnections()).toEqual([]);
  });

  it('counts established sessions; closing drops active but not total', () => {
    const tracker = new SessionTracker({ now: manualClock().now });
    tracker.establish(start('s1'));
    tracker.establish(start('s2'));
    tracker.establish(start('s3'));
    expect(tracker.activeCount).toBe(3);
    expect(tracker.totalCount).toBe(3);

    tracker.close('s2', 'client_delete');
    expect(tracker.activeCount).toBe(2);
    expect(tracker.totalCount).toBe(3);

    tracker.establish(start('s4'));
    expect(tracker.activeCount).toBe(3);
    expect(tracker.totalCount).toBe(4);

    tracker.close('s1', 'idle_timeout');
    tracker.close('s3', 'server_shutdown');
    tracker.close('s4', 'transport_error');
    expect(tracker.activeCount).toBe(0);
    expect(tracker.totalCount).toBe(4);
  });

  it('ignores a second establish of the same id (no count, no event, first facts kept)', () => {
    const clock = manualClock();
    const tracker = new SessionTracker({ now: clock.now });
    const established = vi.fn<(c: ConnectionInfo) => void>();
    tracker.subscribe({ onConnectionEstablished: established });
    tracker.establish(start('s1'));
    clock.advance(1000);
    tracker.establish(start('s1', { clientName: 'impostor' }));
    expect(tracker.activeCount).toBe(1);
    expect(tracker.totalCount).toBe(1);
    expect(established).toHaveBeenCalledTimes(1);
    expect(tracker.getConnection('s1')).toEqual(info('s1', '2025-01-02T03:04:05.000Z', '2025-01-02T03:04:05.000Z', 1));
  });
});

describe('SessionTracker lookups', () => {
  it('getConnection gives the exact ConnectionInfo with ISO times', () => {
    const tracker = new SessionTracker({ now: manualClock().now });
    tracker.establish(start('s1', { transport: 'sse', clientName: '', clientVersion: '', clientIP: 'h:0123456789abcdef' }));
    expect(tracker.getConnection('s1')).toEqual({
      id: 's1',
      kind: 'session',
      clientIP: 'h:0123456789abcdef',
      userAgent: 'test-agent/1.0',
      connectedAt: '2025-01-02T03:04:05.000Z',
      lastActivity: '2025-01-02T03:04:05.000Z',
      requestCount: 1,
      transport: 'sse',
      clientName: '',
      clientVersion: '',
      protocolVersion: '2025-06-18',
    });
    expect(tracker.has('s1')).toBe(true);
  });

  it('getConnection of an unknown or closed id is undefined', () => {
    const tracker = new SessionTracker({ now: manualClock().now });
    expect(tracker.getConnection('nope')).toBeUndefined();
    expect(tracker.has('nope')).toBe(false);
    tracker.establish(start('s1'));
    tracker.close('s1', 'client_delete');
    expect(tracker.getConnection('s1')).toBeUndefined();
    expect(tracker.has('s1')).toBe(false);
  });

  it('getConnections pages in insertion order', () => {
    const tracker = new SessionTracker({ now: manualClock().now });
    for (const id of ['s1', 's2', 's3', 's4', 's5']) tracker.establish(start(id));
    const ids = (list: ConnectionInfo[]): string[] => list.map((c) => c.id);
    expect(ids(tracker.getConnections())).toEqual(['s1', 's2', 's3', 's4', 's5']);
    expect(ids(tracker.getConnections(0, 2))).toEqual(['s1', 's2']);
    expect(ids(tracker.getConnections(2, 2))).toEqual(['s3', 's4']);
    expect(ids(tracker.getConnections(4, 2))).toEqual(['s5']);
    expect(ids(tracker.getConnections(5, 2))).toEqual([]);
    expect(ids(tracker.getConnections(1))).toEqual(['s2', 's3', 's4', 's5']);
    expect(ids(tracker.getConnections(0, 0))).toEqual([]);

    tracker.close('s2', 'client_delete');
    tracker.establish(start('s6'));
    expect(ids(tracker.getConnections())).toEqual(['s1', 's3', 's4', 's5', 's6']);
    expect(ids(tracker.getConnections(1, 3))).toEqual(['s3', 's4', 's5']);
  });

  it('getStats gives counts, the open list and the read time', () => {
    const clock = manualClock();
    const tracker = new SessionTracker({ now: clock.now });
    tracker.establish(start('s1'));
    clock.advance(1000);
    tracker.establish(start('s2'));
    tracker.close('s1', 'client_delete');
    clock.advance(500);
    expect(tracker.getStats()).toEqual({
      activeConnections: 1,
      totalConnections: 2,
      connections: [info('s2', '2025-01-02T03:04:06.000Z', '2025-01-02T03:04:06.000Z', 1)],
      lastUpdated: '2025-01-02T03:04:06.500Z',
    });
  });
});

describe('SessionTracker.touch', () => {
  it('counts requests from 1 and moves lastActivity', () => {
    const clock = manualClock();
    const tracker = new SessionTracker({ now: clock.now });
    tracker.establish(start('s1'));
    expect(tracker.getConnection('s1')?.requestCount).toBe(1);

    clock.advance(1500);
    expect(tracker.touch('s1')).toBe(true);
    expect(tracker.getConnection('s1')).toEqual(info('s1', '2025-01-02T03:04:05.000Z', '2025-01-02T03:04:06.500Z', 2));

    clock.advance(60_000);
    expect(tracker.touch('s1')).toBe(true);
    expect(tracker.touch('s1')).toBe(true);
    expect(tracker.getConnection('s1')).toEqual(info('s1', '2025-01-02T03:04:05.000Z', '2025-01-02T03:05:06.500Z', 4));
  });

  it('returns false for an unknown or closed session and creates nothing', () => {
    const tracker = new SessionTracker({ now: manualClock().now });
    expect(tracker.touch('nope')).toBe(false);
    tracker.establish(start('s1'));
    tracker.close('s1', 'client_delete');
    expect(tracker.touch('s1')).toBe(false);
    expect(tracker.activeCount).toBe(0);
    expect(tracker.totalCount).toBe(1);
  });

  it('does not notify monitors', () => {
    const tracker = new SessionTracker({ now: manualClock().now });
    tracker.establish(start('s1'));
    const log: string[] = [];
    tracker.subscribe(loggingMonitor(log));
    tracker.touch('s1');
    expect(log).toEqual([]);
  });
});

describe('SessionTracker.close', () => {
  it('returns the exact ClosedConnectionInfo with durationMs from the clock', () => {
    const clock = manualClock();
    const tracker = new SessionTracker({ now: clock.now });
    tracker.establish(start('s1'));
    clock.advance(700);
    tracker.touch('s1');
    clock.advance(1800);
    expect(tracker.close('s1', 'client_delete')).toEqual({
      ...info('s1', '2025-01-02T03:04:05.000Z', '2025-01-02T03:04:05.700Z', 2),
      closedAt: '2025-01-02T03:04:07.500Z',
      durationMs: 2500,
      reason: 'client_delete',
    });
  });

  it('closes a session exactly once: the second close returns undefined and tells no monitor', () => {
    const clock = manualClock();
    const tracker = new SessionTracker({ now: clock.now });
    const closed = vi.fn<NonNullable<ConnectionMonitor['onConnectionClosed']>>();
    const change = vi.fn<(s: ConnectionStats) => void>();
    tracker.subscribe({ onConnectionClosed: closed, onConnectionChange: change });
    tracker.establish(start('s1'));
    expect(change).toHaveBeenCalledTimes(1);
    clock.advance(1000);
    expect(tracker.close('s1', 'idle_timeout')?.reason).toBe('idle_timeout');
    clock.advance(1000);
    expect(tracker.close('s1', 'server_shutdown')).toBeUndefined();
    expect(tracker.close('s1', 'client_delete')).toBeUndefined();
    expect(closed).toHaveBeenCalledTimes(1);
    expect(change).toHaveBeenCalledTimes(2);
    expect(tracker.activeCount).toBe(0);
    expect(tracker.totalCount).toBe(1);
  });

  it('close of an unknown id returns undefined and changes nothing', () => {
    const tracker = new SessionTracker({ now: manualClock().now });
    tracker.establish(start('s1'));
    const log: string[] = [];
    tracker.subscribe(loggingMonitor(log));
    expect(tracker.close('nope', 'client_delete')).toBeUndefined();
    expect(log).toEqual([]);
    expect(tracker.activeCount).toBe(1);
  });

  it('never reports a negative duration when the clock steps back', () => {
    const clock = manualClock();
    const tracker = new SessionTracker({ now: clock.now });
    tracker.establish(start('s1'));
    clock.set(T0 - 5000);
    expect(tracker.close('s1', 'client_delete')?.durationMs).toBe(0);
  });
});

describe('SessionTracker monitors', () => {
  it('onConnectionEstablished receives the exact ConnectionInfo', () => {
    const tracker = new SessionTracker({ now: manualClock().now });
    const established = vi.fn<(c: ConnectionInfo) => void>();
    tracker.subscribe({ onConnectionEstablished: established });
    tracker.establish(start('s1', { transport: 'sse', clientName: 'claude', clientVersion: '0.9' }));
    expect(established.mock.calls).toEqual([
      [info('s1', '2025-01-02T03:04:05.000Z', '2025-01-02T03:04:05.000Z', 1, { transport: 'sse', clientName: 'claude', clientVersion: '0.9' })],
    ]);
  });

  it('onConnectionClosed receives (id, durationMs, ClosedConnectionInfo)', () => {
    const clock = manualClock();
    const tracker = new SessionTracker({ now: clock.now });
    const closed = vi.fn<(id: string, durationMs: number, c: ClosedConnectionInfo) => void>();
    tracker.subscribe({ onConnectionClosed: closed });
    tracker.establish(start('s1'));
    clock.advance(2500);
    tracker.close('s1', 'transport_error');
    expect(closed.mock.calls).toEqual([
      [
        's1',
        2500,
        {
          ...info('s1', '2025-01-02T03:04:05.000Z', '2025-01-02T03:04:05.000Z', 1),
          closedAt: '2025-01-02T03:04:07.500Z',
          durationMs: 2500,
          reason: 'transport_error',
        },
      ],
    ]);
  });

  it('calls established/closed before change, monitors in subscription order', () => {
    const tracker = new SessionTracker({ now: manualClock().now });
    const log: string[] = [];
    tracker.subscribe(loggingMonitor(log, 'a'));
    tracker.subscribe(loggingMonitor(log, 'b'));
    tracker.establish(start('s1'));
    tracker.establish(start('s2'));
    tracker.close('s1', 'client_delete');
    expect(log).toEqual([
      'a:established:s1',
      'b:established:s1',
      'a:change:1/1',
      'b:change:1/1',
      'a:established:s2',
      'b:established:s2',
      'a:change:2/2',
      'b:change:2/2',
      'a:closed:s1:0:client_delete',
      'b:closed:s1:0:client_delete',
      'a:change:1/2',
      'b:change:1/2',
    ]);
  });

  it('onConnectionChange stats carry counts and the time of the change', () => {
    const clock = manualClock();
    const tracker = new SessionTracker({ now: clock.now });
    const seen: { active: number; total: number; lastUpdated: string }[] = [];
    tracker.subscribe({
      onConnectionChange: (s) => seen.push({ active: s.activeConnections, total: s.totalConnections, lastUpdated: s.lastUpdated }),
    });
    tracker.establish(start('s1'));
    clock.advance(1000);
    tracker.establish(start('s2'));
    clock.advance(1000);
    tracker.close('s1', 'client_delete');
    clock.advance(1000);
    tracker.close('s2', 'client_delete');
    expect(seen).toEqual([
      { active: 1, total: 1, lastUpdated: '2025-01-02T03:04:05.000Z' },
      { active: 2, total: 2, lastUpdated: '2025-01-02T03:04:06.000Z' },
      { active: 1, total: 2, lastUpdated: '2025-01-02T03:04:07.000Z' },
      { active: 0, total: 2, lastUpdated: '2025-01-02T03:04:08.000Z' },
    ]);
  });

  it('builds the stats connection list only when a monitor reads it, once per event', () => {
    const tracker = new SessionTracker({ now: manualClock().now });
    const getConnections = vi.spyOn(tracker, 'getConnections');
    const counts: string[] = [];
    const unsubscribe = tracker.subscribe({
      onConnectionChange: (s) => {
        counts.push(`${s.activeConnections}/${s.totalConnections}`);
      },
    });
    for (let i = 0; i < 50; i++) tracker.establish(start(`s${i}`));
    for (let i = 0; i < 25; i++) tracker.close(`s${i}`, 'client_delete');
    expect(counts.length).toBe(75);
    expect(counts[49]).toBe('50/50');
    expect(counts[74]).toBe('25/50');
    expect(getConnections).toHaveBeenCalledTimes(0);
    unsubscribe();

    // Assertions inside a monitor would be swallowed by the tracker, so record and check after.
    const lists: string[][] = [];
    const cached: boolean[] = [];
    tracker.subscribe({
      onConnectionChange: (s) => {
        lists.push(s.connections.map((c) => c.id));
        cached.push(s.connections === s.connections);
      },
    });
    tracker.subscribe({ onConnectionChange: (s) => void s.connections.length });
    tracker.establish(start('late'));
    expect(getConnections).toHaveBeenCalledTimes(1);
    tracker.close('s30', 'client_delete');
    expect(getConnections).toHaveBeenCalledTimes(2);
    expect(lists[0]?.length).toBe(26);
    expect(lists[0]?.[0]).toBe('s25');
    expect(lists[0]?.[25]).toBe('late');
    expect(lists[1]?.length).toBe(25);
    expect(lists[1]?.includes('s30')).toBe(false);
    expect(cached).toEqual([true, true]);
  });

  it('serializes the change stats to the ConnectionStats JSON shape', () => {
    const tracker = new SessionTracker({ now: manualClock().now });
    let json = '';
    tracker.subscribe({ onConnectionChange: (s) => (json = JSON.stringify(s)) });
    tracker.establish(start('s1'));
    expect(JSON.parse(json)).toEqual({
      activeConnections: 1,
      totalConnections: 1,
      connections: [info('s1', '2025-01-02T03:04:05.000Z', '2025-01-02T03:04:05.000Z', 1)],
      lastUpdated: '2025-01-02T03:04:05.000Z',
    });
  });

  it('a monitor that throws does not stop the others and is reported to the logger', () => {
    const { logger, calls } = recordingLogger();
    const clock = manualClock();
    const tracker = new SessionTracker({ now: clock.now, logger });
    const boom = new Error('boom');
    tracker.subscribe({
      onConnectionEstablished: () => {
        throw boom;
      },
      onConnectionChange: () => {
        throw boom;
      },
      onConnectionClosed: () => {
        throw boom;
      },
      onRequestRejected: () => {
        throw boom;
      },
    });
    const log: string[] = [];
    tracker.subscribe(loggingMonitor(log));
    tracker.establish(start('s1'));
    clock.advance(10);
    tracker.close('s1', 'client_delete');
    tracker.reject('parse_error');
    expect(log).toEqual(['m:established:s1', 'm:change:1/1', 'm:closed:s1:10:client_delete', 'm:change:0/1', 'm:rejected:parse_error']);
    const expected: LoggedCall = { level: 'error', fields: { err: boom }, message: 'connection monitor threw; event skipped for it' };
    expect(calls).toEqual([expected, expected, expected, expected, expected]);
    const fields = calls[0]?.fields;
    expect(fields !== undefined && 'err' in fields ? fields.err : undefined).toBe(boom);
    expect(tracker.activeCount).toBe(0);
    expect(tracker.totalCount).toBe(1);
  });

  it('a throwing monitor does not stop close from returning its result', () => {
    const tracker = new SessionTracker({ now: manualClock().now });
    tracker.subscribe({
      onConnectionClosed: () => {
        throw new Error('boom');
      },
    });
    tracker.establish(start('s1'));
    expect(tracker.close('s1', 'client_delete')?.id).toBe('s1');
    expect(tracker.has('s1')).toBe(false);
  });

  it('unsubscribe stops the events for that monitor only; a second call is harmless', () => {
    const tracker = new SessionTracker({ now: manualClock().now });
    const log: string[] = [];
    const unsubscribeA = tracker.subscribe(loggingMonitor(log, 'a'));
    tracker.subscribe(loggingMonitor(log, 'b'));
    tracker.establish(start('s1'));
    unsubscribeA();
    unsubscribeA();
    tracker.close('s1', 'client_delete');
    tracker.reject('unauthorized');
    expect(log).toEqual([
      'a:established:s1',
      'b:established:s1',
      'a:change:1/1',
      'b:change:1/1',
      'b:closed:s1:0:client_delete',
      'b:change:0/1',
      'b:rejected:unauthorized',
    ]);
  });

  it('a monitor that unsubscribes itself during an event does not make the next monitor miss it', () => {
    const tracker = new SessionTracker({ now: manualClock().now });
    const log: string[] = [];
    const unsubscribeA = tracker.subscribe({
      onConnectionEstablished: (c) => {
        log.push(`a:established:${c.id}`);
        unsubscribeA();
      },
    });
    tracker.subscribe({ onConnectionEstablished: (c) => log.push(`b:established:${c.id}`) });
    tracker.establish(start('s1'));
    tracker.establish(start('s2'));
    expect(log).toEqual(['a:established:s1', 'b:established:s1', 'b:established:s2']);
  });

  it('a monitor subscribed later sees only later events', () => {
    const tracker = new SessionTracker({ now: manualClock().now });
    tracker.establish(start('s1'));
    const log: string[] = [];
    tracker.subscribe(loggingMonitor(log));
    tracker.establish(start('s2'));
    expect(log).toEqual(['m:established:s2', 'm:change:2/2']);
  });
});

describe('SessionTracker.reject', () => {
  it('calls onRequestRejected on every monitor and changes no count', () => {
    const tracker = new SessionTracker({ now: manualClock().now });
    const a = vi.fn<(r: RejectReason) => void>();
    const b = vi.fn<(r: RejectReason) => void>();
    const change = vi.fn<(s: ConnectionStats) => void>();
    tracker.subscribe({ onRequestRejected: a, onConnectionChange: change });
    tracker.subscribe({ onRequestRejected: b });
    tracker.reject('unknown_session');
    tracker.reject('payload_too_large');
    expect(a.mock.calls).toEqual([['unknown_session'], ['payload_too_large']]);
    expect(b.mock.calls).toEqual([['unknown_session'], ['payload_too_large']]);
    expect(change).toHaveBeenCalledTimes(0);
    expect(tracker.activeCount).toBe(0);
    expect(tracker.totalCount).toBe(0);
  });

  it('is fine with no monitors', () => {
    const tracker = new SessionTracker();
    expect(() => tracker.reject('forbidden_host')).not.toThrow();
  });
});

describe('SessionTracker.idleSince', () => {
  it('yields exactly the sessions whose last activity is before the cutoff', () => {
    const clock = manualClock();
    const tracker = new SessionTracker({ now: clock.now });
    tracker.establish(start('a')); // last activity T0
    clock.advance(1000);
    tracker.establish(start('b')); // T0 + 1000
    clock.advance(1000);
    tracker.establish(start('c')); // T0 + 2000
    clock.advance(1000);
    tracker.touch('a'); // T0 + 3000
    expect([...tracker.idleSince(T0 + 1000)]).toEqual([]);
    expect([...tracker.idleSince(T0 + 1001)]).toEqual(['b']);
    expect([...tracker.idleSince(T0 + 2001)]).toEqual(['b', 'c']);
    expect([...tracker.idleSince(T0 + 3000)]).toEqual(['b', 'c']);
    expect([...tracker.idleSince(T0 + 3001)]).toEqual(['a', 'b', 'c']);
  });

  it('lets the caller close sessions while iterating', () => {
    const clock = manualClock();
    const tracker = new SessionTracker({ now: clock.now });
    for (const id of ['a', 'b', 'c', 'd']) tracker.establish(start(id));
    clock.advance(5000);
    tracker.touch('c');
    const closed: string[] = [];
    for (const id of tracker.idleSince(T0 + 1)) {
      tracker.close(id, 'idle_timeout');
      closed.push(id);
    }
    expect(closed).toEqual(['a', 'b', 'd']);
    expect(tracker.getConnections().map((c) => c.id)).toEqual(['c']);
    expect(tracker.activeCount).toBe(1);
  });
});
