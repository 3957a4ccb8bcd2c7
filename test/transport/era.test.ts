import { describe, expect, it } from 'vitest';
import { claimedVersion, isModernRequest } from '../../src/transport/era.js';

const claim = (version: string) => ({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': version } } });

describe('era routing', () => {
  it('puts a request in the 2026-07-28 era by its header or its body, the 2025 era otherwise', () => {
    expect(isModernRequest('2026-07-28', undefined)).toBe(true);
    expect(isModernRequest('2099-01-01', undefined)).toBe(true);
    expect(isModernRequest(undefined, claim('2026-07-28'))).toBe(true);
    // A claim of any version is the new era's to answer (it refuses what it does not speak).
    expect(isModernRequest('2025-11-25', claim('1999-01-01'))).toBe(true);
    expect(isModernRequest(undefined, [{ jsonrpc: '2.0', method: 'notifications/initialized' }, claim('2026-07-28')])).toBe(true);
    expect(isModernRequest('2025-11-25', { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2026-07-28' } })).toBe(false);
    expect(isModernRequest(undefined, undefined)).toBe(false);
    expect(isModernRequest(undefined, [1, null, 'x'])).toBe(false);
  });

  it('reads the claim only where the envelope puts it', () => {
    expect(claimedVersion(claim('2026-07-28'))).toBe('2026-07-28');
    expect(claimedVersion({ params: { _meta: { 'io.modelcontextprotocol/protocolVersion': 7 } } })).toBeUndefined();
    expect(claimedVersion(null)).toBeUndefined();
  });
});
