import { describe, expect, it } from 'vitest';
import { LabelPolicy } from '../../src/metrics/label-policy.js';

describe('LabelPolicy', () => {
  it('without clientNames, gives the first 20 names a value each, then other; unnamed is unknown', () => {
    const policy = new LabelPolicy();
    const first = Array.from({ length: 20 }, (_, i) => policy.clientName(`c${i}`));
    expect(first).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`));
    expect([policy.clientName('late'), policy.clientName('c3'), policy.clientName('')]).toEqual(['other', 'c3', 'other']);
    expect(new LabelPolicy().clientName('')).toBe('unknown');
  });

  it('with clientNames, gives exactly those a value; no other name takes one, however many come', () => {
    const policy = new LabelPolicy({ clientNames: ['claude-code', 'cursor'] });
    for (let i = 0; i < 10_000; i++) expect(policy.clientName(`junk-${i}`)).toBe('other');
    expect([policy.clientName('cursor'), policy.clientName('claude-code'), policy.clientName('Cursor'), policy.clientName('')]).toEqual([
      'cursor',
      'claude-code',
      'other',
      'other',
    ]);
  });

  it('keeps error_type to empty, tool_error, _OTHER and 20 JSON-RPC codes', () => {
    const policy = new LabelPolicy();
    expect(['', 'tool_error', '_OTHER', '-32601'].map((t) => policy.errorType(t))).toEqual(['', 'tool_error', '_OTHER', '-32601']);
    for (let code = 1; code < 30; code++) policy.errorType(String(-code));
    expect([policy.errorType('-5'), policy.errorType('-25'), policy.errorType('-32601')]).toEqual(['-5', '_OTHER', '-32601']);
  });

  it('keeps methods of the MCP specification and makes others other', () => {
    const policy = new LabelPolicy();
    expect([policy.method('tools/call'), policy.method('x/y')]).toEqual(['tools/call', 'other']);
  });
});
