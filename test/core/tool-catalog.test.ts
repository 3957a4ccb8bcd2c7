import { describe, expect, it } from 'vitest';
import { boundedText, MAX_NAME_LENGTH } from '../../src/core/bounded-text.js';
import { mcpMethod } from '../../src/core/mcp-methods.js';
import { MAX_OFFERED_TOOLS, ToolCatalog } from '../../src/core/tool-catalog.js';

describe('ToolCatalog', () => {
  it('knows the tools a tools/list answer names, and nothing a client makes up', () => {
    const catalog = new ToolCatalog();
    catalog.offer([{ name: 'echo' }, { name: 'sleep', description: 'waits' }, { title: 'no name' }, { name: '' }, null, 'echo', { name: 42 }]);
    expect(catalog.size).toBe(2);
    expect(['echo', 'sleep', 'Echo', 'no name', '', 42, undefined].map((name) => catalog.resolve(name))).toEqual([
      'echo',
      'sleep',
      'other',
      'other',
      'other',
      'other',
      'other',
    ]);
    catalog.offer('not a list');
    catalog.offer(undefined);
    expect(catalog.size).toBe(2);
  });

  it('hands back its own copy of a name, so a label never holds the request string', () => {
    const catalog = new ToolCatalog();
    catalog.offer([{ name: 'a-rather-long-tool-name' }]);
    const fromRequest = JSON.parse('{"name":"a-rather-long-tool-name"}') as { name: string };
    const resolved = catalog.resolve(fromRequest.name);
    expect(resolved).toBe('a-rather-long-tool-name');
    expect(catalog.has(resolved)).toBe(true);
  });

  it('learns a tool from a call the server answered without an error (confirm)', () => {
    const catalog = new ToolCatalog(2);
    expect([catalog.confirm('real'), catalog.resolve('real'), catalog.confirm(42), catalog.confirm('')]).toEqual(['real', 'real', 'other', 'other']);
    expect([catalog.confirm('second'), catalog.confirm('third'), catalog.size]).toEqual(['second', 'other', 2]);
  });

  it('cuts names to 128 characters, alike when offered and when called', () => {
    const catalog = new ToolCatalog();
    const long = `t${'x'.repeat(300)}`;
    catalog.offer([{ name: long }]);
    expect(catalog.resolve(long)).toBe(long.slice(0, MAX_NAME_LENGTH));
    expect(catalog.resolve(`${long}y`)).toBe(long.slice(0, MAX_NAME_LENGTH));
  });

  it(`keeps at most ${MAX_OFFERED_TOOLS} names by default, and the limit it is given`, () => {
    const catalog = new ToolCatalog(3);
    catalog.offer([{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }]);
    expect([catalog.size, catalog.resolve('c'), catalog.resolve('d')]).toEqual([3, 'c', 'other']);
    const big = new ToolCatalog();
    big.offer(Array.from({ length: MAX_OFFERED_TOOLS + 5 }, (_, i) => ({ name: `t${i}` })));
    expect(big.size).toBe(MAX_OFFERED_TOOLS);
  });
});

describe('boundedText', () => {
  it('cuts to the limit, keeps shorter text as it is, and makes anything else empty', () => {
    expect(boundedText('abc')).toBe('abc');
    expect(boundedText('x'.repeat(200))).toBe('x'.repeat(MAX_NAME_LENGTH));
    expect(boundedText('abcdef', 3)).toBe('abc');
    expect([boundedText(undefined), boundedText(5), boundedText(null), boundedText({})]).toEqual(['', '', '', '']);
    // A lone surrogate half survives as it is (the copy is not a re-encoding).
    expect(boundedText('\ud83d-and-more-than-13')).toBe('\ud83d-and-more-than-13');
  });
});

describe('mcpMethod', () => {
  it('passes methods of the MCP specification and makes every other one other', () => {
    expect(['tools/call', 'initialize', 'resources/templates/list', 'bogus/method', 'tools/Call', '', 'notifications/initialized'].map(mcpMethod)).toEqual([
      'tools/call',
      'initialize',
      'resources/templates/list',
      'other',
      'other',
      'other',
      'other',
    ]);
  });
});
