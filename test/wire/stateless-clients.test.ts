import { describe, expect, it } from 'vitest';
import type { ClientFacts } from '../../src/core/types.js';
import type { ExchangeFacts } from '../../src/wire/exchange.js';
import { StatelessClients } from '../../src/wire/stateless-clients.js';

const client = (name: string): ClientFacts => ({ clientName: name, clientVersion: '1', clientIP: '10.0.0.0', userAgent: 'ua' });

describe('StatelessClients', () => {
  it('knows a request by the connection its client initialized on, before anything else', () => {
    const known = new StatelessClients({ now: () => 0 });
    const socketA = {};
    const socketB = {};
    // Two clients behind one address and user agent, each on its own connection.
    const peer = { clientIP: '10.0.0.0', userAgent: 'node' };
    known.remember({ ...peer, connection: socketA }, { client: client('a'), protocolVersion: '2025-06-18' });
    known.remember({ ...peer, connection: socketB }, { client: client('b'), protocolVersion: '2025-11-25' });
    expect(known.recall({ ...peer, connection: socketA })?.client.clientName).toBe('a');
    expect(known.recall({ ...peer, connection: socketB })?.protocolVersion).toBe('2025-11-25');
    // A new connection of the same peer: the client that initialized last there.
    expect(known.recall({ ...peer, connection: {} })?.client.clientName).toBe('b');
  });

  it('falls back to the masked address and user agent, never for an unknown address', () => {
    const known = new StatelessClients({ now: () => 0 });
    const from: ExchangeFacts = { clientIP: '10.0.0.0', userAgent: 'ua-1' };
    known.remember(from, { client: client('a'), protocolVersion: '2025-06-18' });
    expect(known.recall({ clientIP: '10.0.0.0', userAgent: 'ua-1' })?.client.clientName).toBe('a');
    expect(known.recall({ clientIP: '10.0.0.0', userAgent: 'ua-2' })).toBeUndefined();
    known.remember({ clientIP: 'unknown', userAgent: 'ua-3' }, { client: client('c'), protocolVersion: '2025-06-18' });
    expect(known.recall({ clientIP: 'unknown', userAgent: 'ua-3' })).toBeUndefined();
  });

  it('forgets a peer silent for the window, and the one seen longest ago past its limit', () => {
    let now = 0;
    const known = new StatelessClients({ now: () => now, windowMs: 1000, limit: 2 });
    const peer = (n: number): ExchangeFacts => ({ clientIP: '10.0.0.0', userAgent: `ua-${n}` });
    known.remember(peer(1), { client: client('one'), protocolVersion: 'v' });
    known.remember(peer(2), { client: client('two'), protocolVersion: 'v' });
    now = 900;
    // Seen again: peer 1 is now the most recent.
    expect(known.recall(peer(1))?.client.clientName).toBe('one');
    known.remember(peer(3), { client: client('three'), protocolVersion: 'v' });
    expect([known.recall(peer(1))?.client.clientName, known.recall(peer(2)), known.recall(peer(3))?.client.clientName]).toEqual(['one', undefined, 'three']);
    now = 3000;
    expect(known.recall(peer(1))).toBeUndefined();
  });
});
