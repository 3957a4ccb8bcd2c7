import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BoundedEventStore } from '../../src/sdk-v1/event-store.js';
import { useCliProcesses } from '../cli-process.js';

const { start } = useCliProcesses();
const ACCEPT = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };

/** Reads an SSE body until `done` says the text so far is enough (or it ends); resolves with the text. */
async function readUntil(response: Response, done: (text: string) => boolean): Promise<string> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!done(text)) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel().catch(() => {});
  return text;
}

describe('resumable streams (the CLI hosts a bounded event store)', () => {
  it.each([
    ['serve', ['serve']],
    ['proxy --stdio', ['proxy', '--stdio', `${process.execPath} ${fileURLToPath(new URL('../fixtures/env-stdio-server.mjs', import.meta.url))}`]],
  ] as [string, string[]][])('%s: a client whose stream drops mid-call resumes with Last-Event-ID and gets its answer', async (_name, args) => {
    const cli = await start(args);
    const init = await fetch(cli.url, {
      method: 'POST',
      headers: ACCEPT,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'resumer', version: '1' } } }),
    });
    await init.text();
    const session = { 'mcp-session-id': init.headers.get('mcp-session-id') ?? '', 'mcp-protocol-version': '2025-11-25' };
    await (await fetch(cli.url, { method: 'POST', headers: { ...ACCEPT, ...session }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();

    // The call's stream opens with an event id (the SDK's priming event); then the client drops it.
    const dropped = new AbortController();
    const call = await fetch(cli.url, {
      method: 'POST',
      headers: { ...ACCEPT, ...session },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'sleep', arguments: { ms: 200 } } }),
      signal: dropped.signal,
    });
    const first = await readUntil(call, (text) => /^id: .+$/m.test(text));
    const lastEventId = /^id: (.+)$/m.exec(first)?.[1] ?? '';
    expect(lastEventId).not.toBe('');
    dropped.abort();

    // Until the server has seen the drop, the stream still counts as connected (409), and a
    // client reconnects after a pause, as the SDK's does; a bounded number of times here.
    let resumed = await fetch(cli.url, { method: 'GET', headers: { Accept: 'text/event-stream', ...session, 'last-event-id': lastEventId } });
    for (let attempt = 0; resumed.status === 409 && attempt < 40; attempt++) {
      await resumed.text();
      await new Promise((resolve) => setTimeout(resolve, 25));
      resumed = await fetch(cli.url, { method: 'GET', headers: { Accept: 'text/event-stream', ...session, 'last-event-id': lastEventId } });
    }
    expect(resumed.status).toBe(200);
    const replay = await readUntil(resumed, (text) => text.includes('"id":2'));
    const data = /^data: (\{.*"id":2.*\})$/m.exec(replay)?.[1] ?? '{}';
    expect(JSON.parse(data)).toEqual({ jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'slept 200 ms' }] } });
  });
});

describe('BoundedEventStore', () => {
  it('keeps the newest events, replays only the same stream after the given event, and skips priming events', async () => {
    const store = new BoundedEventStore(3);
    const a1 = await store.storeEvent('a', {} as never);
    await store.storeEvent('b', { jsonrpc: '2.0', method: 'b1' });
    await store.storeEvent('a', { jsonrpc: '2.0', method: 'a2' });
    const replayed: string[] = [];
    const send = async (_id: string, message: { method?: string }) => void replayed.push(message.method ?? '');
    expect(await store.replayEventsAfter(a1, { send: send as never })).toBe('a');
    expect(replayed).toEqual(['a2']);
    await store.storeEvent('a', { jsonrpc: '2.0', method: 'a3' });
    // The oldest event (a1) is gone: a client that names it resumes nothing.
    expect([store.size, await store.getStreamIdForEventId(a1), await store.replayEventsAfter(a1, { send: send as never })]).toEqual([3, undefined, '']);
    expect(() => new BoundedEventStore(0)).toThrow(RangeError);
  });
});
