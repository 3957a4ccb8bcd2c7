import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../src/transport/read-body.js';
import { useCliProcesses } from '../cli-process.js';

const { start } = useCliProcesses();
const nested = (depth: number): string => `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;

describe('JSON nested thousands deep', () => {
  it('is refused on /mcp and /messages with a JSON-RPC invalid-request error, counted, and logged below error', async () => {
    const cli = await start(['serve']);
    const base = cli.adminUrl;
    const stream = new AbortController();
    const sse = await fetch(`${base}/sse`, { signal: stream.signal });
    const first = new TextDecoder().decode((await (sse.body as ReadableStream<Uint8Array>).getReader().read()).value);
    const messages = /data: (.*)/.exec(first)?.[1]?.trim() ?? '';
    const answers = [];
    for (const [path, body] of [
      [messages, '['.repeat(10_000) + ']'.repeat(10_000)],
      [messages, nested(10_000)],
      ['/mcp', nested(10_000)],
    ] as const) {
      const answer = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body });
      answers.push([answer.status, await answer.json()]);
    }
    const refused = [400, { jsonrpc: '2.0', error: { code: -32600, message: `Invalid Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels` }, id: null }];
    expect(answers).toEqual([refused, refused, refused]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('\nmcp_server_requests_rejected_total{reason="invalid_request"} 3\n');
    stream.abort();
    expect(cli.lines.filter((line) => (line.level ?? 0) >= 50)).toEqual([]);
  });

  it('measures depth outside strings only, and lets a body at the limit through', () => {
    expect(nestsDeeperThan(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`, MAX_JSON_DEPTH)).toBe(false);
    expect(nestsDeeperThan(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`, MAX_JSON_DEPTH)).toBe(true);
    expect(nestsDeeperThan(JSON.stringify({ text: '['.repeat(5000) + '\\"[' }), MAX_JSON_DEPTH)).toBe(false);
  });
});
