import { describe, expect, it } from 'vitest';
import { DRAIN_LIMIT_BYTES } from '../../src/transport/read-body.js';
import { useCliProcesses } from '../cli-process.js';
import { rawRequest } from '../helpers.js';

const { start } = useCliProcesses();
const SIZE = 6 * 1024 * 1024;
const tooLarge = { jsonrpc: '2.0', error: { code: -32000, message: `Payload too large: the limit is ${4 * 1024 * 1024} bytes` }, id: null };
const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** A 6 MiB JSON-RPC request, as one buffer (sent with Content-Length) or as a stream of 64 KiB chunks (sent chunked). */
const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(SIZE) } }));
function chunked(): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= body.length) return controller.close();
      controller.enqueue(body.subarray(at, (at += 64 * 1024)));
    },
  });
}

/** 60 fetch clients, 10 at a time; what each of them saw (a status, or the error fetch threw). */
async function sixty(url: string, send: () => RequestInit): Promise<string[]> {
  const seen: string[] = [];
  for (let round = 0; round < 6; round++) {
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        try {
          const answer = await fetch(url, { method: 'POST', headers, ...send() } as RequestInit);
          const text = await answer.text();
          seen.push(answer.status === 413 && JSON.stringify(JSON.parse(text)) === JSON.stringify(tooLarge) ? '413' : `${answer.status} ${text.slice(0, 80)}`);
        } catch (error) {
          seen.push(String((error as { cause?: { code?: string } }).cause?.code ?? error));
        }
      }),
    );
  }
  return seen.sort();
}

describe('a body over the cap', () => {
  it('gets its 413 at every fetch client, with a Content-Length and chunked, and each is counted once', async () => {
    // A server of its own process: a client on the server's own event loop never races it.
    const cli = await start(['serve']);
    const sized = await sixty(cli.url, () => ({ body }));
    const streamed = await sixty(cli.url, () => ({ body: chunked(), duplex: 'half' }));
    expect({ sized, streamed }).toEqual({ sized: Array(60).fill('413'), streamed: Array(60).fill('413') });
    const metrics = await (await fetch(`${cli.adminUrl}/metrics`)).text();
    expect(metrics).toContain('\nmcp_server_requests_rejected_total{reason="payload_too_large"} 120\n');
  });

  it('closes the connection instead when the declared length is past what is drained', async () => {
    const cli = await start(['serve']);
    const declared = String(4 * 1024 * 1024 + DRAIN_LIMIT_BYTES + 1);
    const answer = await rawRequest(cli.url, 'POST', { ...headers, connection: 'keep-alive', 'content-length': declared }, ['{"jsonrpc":"2.0"']);
    expect([answer.status, answer.headers.connection, JSON.parse(answer.body)]).toEqual([413, 'close', tooLarge]);
    const kept = await rawRequest(cli.url, 'POST', { ...headers, connection: 'keep-alive', 'content-length': String(4 * 1024 * 1024 + 1) }, ['{"jsonrpc":"2.0"']);
    expect([kept.status, kept.headers.connection]).toEqual([413, 'keep-alive']);
  });
});
