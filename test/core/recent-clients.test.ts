import { describe, expect, it } from 'vitest';
import { RecentClients } from '../../src/core/recent-clients.js';
import type { ClientFacts, OperationInfo } from '../../src/core/types.js';

const facts = (clientName: string, clientIP = '203.0.113.0'): ClientFacts => ({ clientName, clientVersion: '1.0', clientIP, userAgent: 'ua' });
const operation = (client: ClientFacts, protocolVersion: string): OperationInfo => ({
  transport: 'streamable_http',
  method: 'tools/call',
  toolName: 'echo',
  protocolVersion,
  client,
  errorType: '',
  durationSeconds: 0.01,
});

function clock(start = Date.parse('2026-11-25T10:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('RecentClients', () => {
  it('keeps one entry per name, version, address and user agent, with every protocol version it used', () => {
    const time = clock();
    const clients = new RecentClients({ now: time.now });
    const session = facts('claude-code');
    clients.onOperation(operation(session, '2025-11-25'));
    time.advance(1000);
    clients.onOperation(operation(session, '2025-11-25'));
    // A request that stands alone, from the same client: a new facts object, the same entry.
    clients.onOperation(operation(facts('claude-code'), '2026-07-28'));
    time.advance(1000);
    clients.onOperation(operation(facts('cursor', '198.51.100.0'), '2026-07-28'));
    // Most recently seen first.
    expect(clients.list()).toEqual([
      {
        clientName: 'cursor',
        clientVersion: '1.0',
        clientIP: '198.51.100.0',
        userAgent: 'ua',
        protocolVersions: ['2026-07-28'],
        requests: 1,
        firstSeen: '2026-11-25T10:00:02.000Z',
        lastSeen: '2026-11-25T10:00:02.000Z',
      },
      {
        clientName: 'claude-code',
        clientVersion: '1.0',
        clientIP: '203.0.113.0',
        userAgent: 'ua',
        protocolVersions: ['2025-11-25', '2026-07-28'],
        requests: 3,
        firstSeen: '2026-11-25T10:00:00.000Z',
        lastSeen: '2026-11-25T10:00:01.000Z',
      },
    ]);
    expect(clients.size).toBe(2);
  });

  it('counts a listen stream as a request, and a session only by its operations', () => {
    const clients = new RecentClients({ now: clock().now });
    const base = { id: 'x', connectedAt: '', lastActivity: '', requestCount: 1, transport: 'streamable_http' as const, protocolVersion: '2026-07-28' };
    clients.onConnectionEstablished({ ...base, ...facts('listener'), kind: 'subscription' });
    clients.onConnectionEstablished({ ...base, ...facts('session-client'), kind: 'session' });
    expect(clients.list().map((c) => [c.clientName, c.requests])).toEqual([['listener', 1]]);
  });

  it('forgets clients not seen within the window', () => {
    const time = clock();
    const clients = new RecentClients({ now: time.now, windowMs: 60_000 });
    clients.see(facts('old'), '2025-11-25');
    time.advance(30_000);
    clients.see(facts('new'), '2025-11-25');
    time.advance(31_000);
    expect(clients.list().map((c) => c.clientName)).toEqual(['new']);
    expect(clients.size).toBe(1);
  });

  it('holds at most `limit` clients: past it, those outside the window go, else the one seen longest ago', () => {
    const time = clock();
    const clients = new RecentClients({ now: time.now, limit: 3, windowMs: 60_000 });
    for (const name of ['a', 'b', 'c']) {
      clients.see(facts(name), '2025-11-25');
      time.advance(1000);
    }
    clients.see(facts('a'), '2025-11-25'); // a is now the most recent
    clients.see(facts('d'), '2025-11-25'); // b goes
    expect(clients.list().map((c) => c.clientName).sort()).toEqual(['a', 'c', 'd']);
    for (let i = 0; i < 10_000; i++) clients.see(facts(`flood-${i}`), '2025-11-25');
    expect(clients.list()).toHaveLength(3);
    // A facts object whose entry was dropped starts a new one.
    const kept = facts('again');
    clients.see(kept, '2025-11-25');
    for (let i = 0; i < 5; i++) clients.see(facts(`push-${i}`), '2025-11-25');
    clients.see(kept, '2026-07-28');
    expect(clients.list().find((c) => c.clientName === 'again')).toMatchObject({ requests: 1, protocolVersions: ['2026-07-28'] });
  });

  it('finds a session by its facts object, not by key, while many sessions of one client take turns', () => {
    const clients = new RecentClients({ now: clock().now });
    // Reads of the facts that make the key: the lookup by key reads all four on every request.
    let keyReads = 0;
    const counted = <T extends object>(target: T): T =>
      new Proxy(target, {
        get: (object, property, receiver) => {
          if (property === 'clientName') keyReads += 1;
          return Reflect.get(object, property, receiver) as unknown;
        },
      });
    // Three sessions of one client (a session's facts are its ConnectionStart, with an id), interleaved.
    const sessions = ['s1', 's2', 's3'].map((id) => counted({ id, transport: 'streamable_http' as const, protocolVersion: '2025-11-25', ...facts('agent') }));
    for (let round = 0; round < 4; round++) for (const session of sessions) clients.onOperation(operation(session, '2025-11-25'));
    // Each read once, at its first request (and the first once more, copied into the entry); every request is counted.
    expect(keyReads).toBe(4);
    expect(clients.list()).toMatchObject([{ clientName: 'agent', requests: 12, protocolVersions: ['2025-11-25'] }]);
    // Facts made for one request each (no id) are found by key every time, never kept by identity.
    const single = [counted(facts('agent')), counted(facts('agent'))];
    for (const one of single) clients.onOperation(operation(one, '2026-07-28'));
    expect(keyReads).toBe(6);
    expect(clients.list()).toMatchObject([{ clientName: 'agent', requests: 14, protocolVersions: ['2025-11-25', '2026-07-28'] }]);
  });

  it('keeps each instance\'s count apart when two see the same sessions, and counts a frozen session by key', () => {
    const time = clock();
    const mine = new RecentClients({ now: time.now });
    const theirs = new RecentClients({ now: time.now });
    const session = { id: 'ref-1', transport: 'streamable_http' as const, protocolVersion: '2025-11-25', ...facts('agent') };
    for (let i = 0; i < 3; i++) for (const clients of [mine, theirs]) clients.onOperation(operation(session, '2025-11-25'));
    time.advance(1000);
    theirs.onOperation(operation({ ...facts('other') }, '2026-07-28'));
    expect(mine.list()).toMatchObject([{ clientName: 'agent', requests: 3 }]);
    expect(theirs.list().map((c) => [c.clientName, c.requests])).toEqual([
      ['other', 1],
      ['agent', 3],
    ]);
    // Facts a caller froze cannot keep their entry: found by key on every request, and counted.
    const frozen = Object.freeze({ id: 'ref-2', transport: 'streamable_http' as const, protocolVersion: '2025-11-25', ...facts('frozen') });
    for (let i = 0; i < 2; i++) mine.onOperation(operation(frozen, '2025-11-25'));
    expect(mine.list().find((c) => c.clientName === 'frozen')).toMatchObject({ requests: 2 });
  });
});
