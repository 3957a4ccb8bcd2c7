import { describe, expect, it } from 'vitest';
import { outcomeOf, type Outcome } from '../../src/wire/outcome.js';

/** What outcomeOf must say of a text, from the parsed message. */
function expected(text: string): Outcome | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const message = value as { id?: unknown; method?: unknown; result?: unknown; error?: unknown };
  if (message.method !== undefined || (typeof message.id !== 'string' && typeof message.id !== 'number')) return undefined;
  if (message.result === undefined && message.error === undefined) return undefined;
  const code = (message.error as { code?: unknown } | null | undefined)?.code;
  return {
    id: message.id,
    errorCode: message.error === undefined ? undefined : typeof code === 'number' && Number.isInteger(code) ? code : null,
    isError: (message.result as { isError?: unknown } | null | undefined)?.isError === true,
    protocolVersion: typeof (message.result as { protocolVersion?: unknown } | null | undefined)?.protocolVersion === 'string' ? (message.result as { protocolVersion: string }).protocolVersion : undefined,
  };
}

/** A small seeded generator, so a failure repeats. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

const PIECES = ['isError', 'id', 'result', 'error', 'code', 'text', '"', '\\', '{', '}', '[', ']', ':', ',', 'é', '\u2028', ' '];

function value(next: () => number, depth: number): unknown {
  const pick = next();
  if (depth > 3 || pick < 0.3) {
    const kind = Math.floor(next() * 5);
    if (kind === 0) return Math.floor(next() * 1000) - 500;
    if (kind === 1) return next() < 0.5;
    if (kind === 2) return null;
    return Array.from({ length: Math.floor(next() * 6) }, () => PIECES[Math.floor(next() * PIECES.length)]).join('') + 'x'.repeat(next() < 0.1 ? 200 : 0);
  }
  if (pick < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 4); i > 0; i--) object[PIECES[Math.floor(next() * 5)] as string] = value(next, depth + 1);
  return object;
}

describe('outcomeOf', () => {
  it('reads the id, the error code, isError and the negotiated version as JSON.parse would, for SDK-shaped answers', () => {
    const cases = [
      '{"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{"listChanged":true}},"serverInfo":{"name":"bench","version":"1.0.0"}},"jsonrpc":"2.0","id":0}',
      '{"jsonrpc":"2.0","id":1,"result":{"capabilities":{"protocolVersion":"nested"},"protocolVersion":"2026-\\u0030"}}',
      '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":20250618}}',
      '{"result":{"content":[{"type":"text","text":"bench"}]},"jsonrpc":"2.0","id":1}',
      '{"jsonrpc":"2.0","id":"a\\"b","error":{"message":"x","code":-32602}}',
      '{"jsonrpc":"2.0","id":7,"result":{"isError":true,"content":[]}}',
      '{"jsonrpc":"2.0","id":7,"result":{"structuredContent":{"isError":true},"content":[{"type":"text","text":"\\"isError\\":true"}]}}',
      '  { "jsonrpc" : "2.0" , "id" : 3 , "result" : { } } ',
      '{"jsonrpc":"2.0","id":1,"error":"not an object"}',
      '{"jsonrpc":"2.0","id":2,"error":{"code":1.5}}',
      `{"jsonrpc":"2.0","id":9,"result":{"content":[{"type":"text","text":"${'long \\\\ text \\" '.repeat(40)}"}],"isError":true}}`,
    ];
    for (const text of cases) expect(outcomeOf(text), text).toEqual(expected(text));
  });

  it('is not fooled: requests, notifications, null ids, broken or cut text, arrays are no responses', () => {
    for (const text of [
      '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}',
      '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{}}',
      '{"jsonrpc":"2.0","id":null,"error":{"code":-32000}}',
      '{"jsonrpc":"2.0","id":3,"result":',
      '{"jsonrpc":"2.0","id":3}',
      '[{"jsonrpc":"2.0","id":1,"result":{}}]',
      'event: message',
      '',
    ]) {
      expect(outcomeOf(text), text).toBeUndefined();
    }
  });

  it('agrees with JSON.parse on 5,000 random responses (nested keys named like the ones it reads, escapes, long strings)', () => {
    const next = random(24);
    for (let i = 0; i < 5000; i++) {
      const message: Record<string, unknown> = { jsonrpc: '2.0' };
      const keys = ['id', next() < 0.5 ? 'result' : 'error', ...(next() < 0.2 ? ['method'] : []), 'extra'].sort(() => next() - 0.5);
      for (const key of keys) {
        if (key === 'id') message.id = next() < 0.5 ? Math.floor(next() * 100) : `id-${PIECES[Math.floor(next() * PIECES.length)]}`;
        else if (key === 'result') {
          const version = next() < 0.3 ? { protocolVersion: next() < 0.7 ? `2025-${PIECES[Math.floor(next() * PIECES.length)]}` : value(next, 2) } : {};
          message.result = next() < 0.8 ? { ...(value(next, 1) as object), ...(next() < 0.3 ? { isError: next() < 0.5 } : {}), ...version } : value(next, 1);
        }
        else if (key === 'error') message.error = next() < 0.8 ? { code: Math.floor(next() * 64000) - 32000, message: value(next, 2) } : value(next, 1);
        else message[key] = value(next, 1);
      }
      const text = JSON.stringify(message, null, next() < 0.2 ? 1 : undefined);
      expect(outcomeOf(text), text).toEqual(expected(text));
    }
  });
});

