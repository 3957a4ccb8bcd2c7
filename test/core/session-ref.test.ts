import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sessionRef } from '../../src/core/session-ref.js';

describe('sessionRef', () => {
  it('is the first 12 hex digits of the session id\'s SHA-256, the same text whichever way Node computes it', () => {
    expect(sessionRef('abc')).toBe('ba7816bf8f01');
    const ids = Array.from({ length: 100 }, () => randomUUID());
    expect(ids.map(sessionRef)).toEqual(ids.map((id) => createHash('sha256').update(id).digest('hex').slice(0, 12)));
  });
});
