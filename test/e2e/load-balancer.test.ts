/**
 * Replicas behind a real load balancer: Debian's HAProxy and nginx, started by the test with
 * the configurations the repository ships (deploy/), in front of two `mcp-exporter serve`
 * processes, with real SDK clients of both eras. Without session affinity a 2025 session
 * breaks, and the replicas' counts say so (unknown_session on the one that did not make
 * it); with affinity every session works and the counts are exact; a 2026-07-28 client
 * needs none. HAProxy spreads requests round robin, one at a time here, so which replica
 * gets which request is known.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useCliProcesses, type CliProcess } from '../cli-process.js';
import { seriesOf } from '../helpers.js';
import { eventually, freePort, requireTools } from '../prometheus-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcp-exporter-lb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => {
  requireTools(['haproxy'], 'haproxy');
  requireTools(['nginx'], 'nginx-light');
});

const { start } = useCliProcesses();
const balancers: ChildProcess[] = [];
afterEach(async () => {
  for (const child of balancers.splice(0)) {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }
});

/** Resolves once something accepts connections on the port. */
async function listening(port: number, child: ChildProcess, output: () => string): Promise<void> {
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) throw new Error(`the load balancer exited: ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (tries > 200) throw new Error(`the load balancer did not listen on ${port}: ${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Two replicas (`serve`). A balancer notices that a client left a stream only when it next
 * writes to it: heartbeats every second make a legacy SSE session whose client left end
 * within a second or two, not 15 (the default interval).
 */
async function replicas(): Promise<[CliProcess, CliProcess]> {
  const args = ['serve', '--heartbeat-interval', '1s'];
  return [await start(args), await start(args)];
}
const portOf = (replica: CliProcess): string => new URL(replica.url).port;

/**
 * HAProxy with deploy/haproxy/haproxy.cfg, listening on a free port, its servers the two
 * replicas; `affinity: false` drops the stick rules (plain round robin).
 */
async function haproxy(backends: [CliProcess, CliProcess], affinity: boolean): Promise<string> {
  const port = await freePort();
  const shipped = readFileSync(join(ROOT, 'deploy/haproxy/haproxy.cfg'), 'utf8');
  const config = shipped
    .replace(/^(\s*)bind :8080$/m, `$1bind 127.0.0.1:${port}`)
    .replace(/^(\s*server exporter-1) exporter-1:3000$/m, `$1 127.0.0.1:${portOf(backends[0])}`)
    .replace(/^(\s*server exporter-2) exporter-2:3000$/m, `$1 127.0.0.1:${portOf(backends[1])}`)
    .split('\n')
    .filter((line) => affinity || !/^\s*stick/.test(line))
    .join('\n');
  expect(config).not.toContain('exporter-1:3000');
  expect(config.includes('stick store-response res.hdr(mcp-session-id)')).toBe(affinity);
  const file = join(dir, `haproxy-${port}.cfg`);
  writeFileSync(file, config);
  const child = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  balancers.push(child);
  let output = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  await listening(port, child, () => output);
  return `http://127.0.0.1:${port}`;
}

/** nginx with deploy/nginx/nginx.conf, listening on a free port, its servers the two replicas. */
async function nginx(backends: [CliProcess, CliProcess]): Promise<string> {
  const port = await freePort();
  const prefix = mkdtempSync(join(dir, 'nginx-'));
  const config = readFileSync(join(ROOT, 'deploy/nginx/nginx.conf'), 'utf8')
    .replace(/^(\s*)listen 8080;$/m, `$1listen 127.0.0.1:${port};`)
    .replace(/^(\s*)server exporter-1:3000;$/m, `$1server 127.0.0.1:${portOf(backends[0])};`)
    .replace(/^(\s*)server exporter-2:3000;$/m, `$1server 127.0.0.1:${portOf(backends[1])};`);
  expect(config).not.toContain('exporter-1:3000');
  writeFileSync(join(prefix, 'nginx.conf'), config);
  const child = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', `daemon off; pid ${join(prefix, 'nginx.pid')};`], { stdio: ['ignore', 'ignore', 'pipe'] });
  balancers.push(child);
  let output = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  await listening(port, child, () => output);
  return `http://127.0.0.1:${port}`;
}

/** What a replica counted: its sessions by transport, closes, refusals for unknown sessions, and tool calls by protocol version. */
async function counts(replica: CliProcess): Promise<Record<string, number>> {
  const series = seriesOf(await (await fetch(`${replica.adminUrl}/metrics`)).text(), (name) => name.startsWith('mcp_server_'));
  const value = (key: string): number => Number(series.get(key) ?? 0);
  return {
    streamable: value('mcp_server_sessions_total{client_name="lb-client",transport="streamable_http"}'),
    sse: value('mcp_server_sessions_total{client_name="lb-client",transport="sse"}'),
    open: [...series].filter(([key]) => key.startsWith('mcp_server_sessions_active{')).reduce((sum, [, v]) => sum + Number(v), 0),
    deleted: value('mcp_server_sessions_closed_total{reason="client_delete",transport="streamable_http"}') + value('mcp_server_sessions_closed_total{reason="client_delete",transport="sse"}'),
    unknownSession: value('mcp_server_requests_rejected_total{reason="unknown_session"}'),
    calls2025: value('mcp_server_operation_duration_seconds_count{error_type="",gen_ai_tool_name="echo",mcp_method_name="tools/call",mcp_protocol_version="2025-11-25"}'),
    calls2026: value('mcp_server_operation_duration_seconds_count{error_type="",gen_ai_tool_name="echo",mcp_method_name="tools/call",mcp_protocol_version="2026-07-28"}'),
  };
}
const zero = { streamable: 0, sse: 0, open: 0, deleted: 0, unknownSession: 0, calls2025: 0, calls2026: 0 };

/** A 2025 client over Streamable HTTP: initialize, one call, DELETE. Resolves with the call's text, or the error that stopped it. */
async function streamableSession(url: string): Promise<string> {
  const client = new Client({ name: 'lb-client', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`));
  try {
    await client.connect(transport);
    const answer = (await client.callTool({ name: 'echo', arguments: { text: 'through the balancer' } })) as { content: { text: string }[] };
    await transport.terminateSession();
    return answer.content[0]?.text ?? '';
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  } finally {
    await client.close().catch(() => {});
  }
}

/** A 2025 client over the legacy SSE transport: GET /sse, then POST /messages?sessionId=. */
async function sseSession(url: string): Promise<string> {
  const client = new Client({ name: 'lb-client', version: '1.0.0' });
  try {
    await client.connect(new SSEClientTransport(new URL(`${url}/sse`)));
    const answer = (await client.callTool({ name: 'echo', arguments: { text: 'legacy, through the balancer' } })) as { content: { text: string }[] };
    return answer.content[0]?.text ?? '';
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  } finally {
    await client.close().catch(() => {});
  }
}

/** A 2026-07-28 client (SDK v2, pinned): discovery, then calls that stand alone. */
async function modernCalls(url: string, calls: number): Promise<string[]> {
  const client = new ModernClient({ name: 'lb-client', version: '2.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new ModernTransport(new URL(`${url}/mcp`)));
  const texts: string[] = [];
  for (let i = 0; i < calls; i++) {
    const answer = (await client.callTool({ name: 'echo', arguments: { text: `call ${i}` } })) as { content: { text: string }[] };
    texts.push(answer.content[0]?.text ?? '');
  }
  await client.close();
  return texts;
}

/** Resolves once the replicas have closed `sessions` sessions between them (a legacy SSE session closes when its client's stream ends). */
const closed = (pair: [CliProcess, CliProcess], sessions: number): Promise<unknown> =>
  eventually(`${sessions} sessions closed`, async () => ((await Promise.all(pair.map(counts))).reduce((sum, c) => sum + (c.deleted ?? 0), 0) === sessions ? true : undefined), 10_000);

/** The two replicas' counts, in an order that does not depend on which one the balancer picked first. */
const both = async (pair: [CliProcess, CliProcess]): Promise<Record<string, number>[]> =>
  (await Promise.all(pair.map(counts))).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('replicas behind HAProxy', () => {
  it('round robin without affinity: every 2025 session breaks, its initialize on one replica and its next request refused as unknown_session on the other', async () => {
    const pair = await replicas();
    const url = await haproxy(pair, false);
    const results: string[] = [];
    for (let i = 0; i < 4; i++) results.push(await streamableSession(url));
    expect(results.every((r) => r.startsWith('failed:'))).toBe(true);
    // Each client's initialize went to the first replica (a session it never sees again,
    // left open until its idle timeout), its initialized notification to the second (404).
    expect(await both(pair)).toEqual([
      { ...zero, unknownSession: 4 },
      { ...zero, streamable: 4, open: 4 },
    ]);
  });

  it('round robin without affinity: a legacy SSE session breaks the same way', async () => {
    const pair = await replicas();
    const url = await haproxy(pair, false);
    const results = [await sseSession(url), await sseSession(url)];
    expect(results.every((r) => r.startsWith('failed:'))).toBe(true);
    // GET /sse on one replica (no session yet: it waits for an initialize), the initialize POST on the other.
    expect(await both(pair)).toEqual([zero, { ...zero, unknownSession: 2 }]);
  });

  it('with the shipped affinity (Mcp-Session-Id learnt from the answer, sessionId for legacy SSE), every session works and the counts are exact', async () => {
    const pair = await replicas();
    const url = await haproxy(pair, true);
    const results: string[] = [];
    for (let i = 0; i < 4; i++) results.push(await streamableSession(url));
    for (let i = 0; i < 2; i++) results.push(await sseSession(url));
    expect(results).toEqual([...Array(4).fill('through the balancer'), ...Array(2).fill('legacy, through the balancer')]);
    await closed(pair, 6);
    // Only requests without a session id are spread: the initializes (and the SSE streams) alternate.
    expect(await both(pair)).toEqual([
      { ...zero, streamable: 2, sse: 1, deleted: 3, calls2025: 3 },
      { ...zero, streamable: 2, sse: 1, deleted: 3, calls2025: 3 },
    ]);
  });

  it('2026-07-28 clients need no affinity: their requests stand alone, spread over both replicas', async () => {
    const pair = await replicas();
    const url = await haproxy(pair, false);
    expect(await modernCalls(url, 4)).toEqual(['call 0', 'call 1', 'call 2', 'call 3']);
    // server/discover on one replica, then the calls alternate.
    expect(await both(pair)).toEqual([
      { ...zero, calls2026: 2 },
      { ...zero, calls2026: 2 },
    ]);
  });
});

describe('replicas behind nginx', () => {
  it("with the shipped affinity (the client's address), every session of both transports works and the counts are exact", async () => {
    const pair = await replicas();
    const url = await nginx(pair);
    const results = [await streamableSession(url), await streamableSession(url), await sseSession(url)];
    expect(results).toEqual(['through the balancer', 'through the balancer', 'legacy, through the balancer']);
    expect(await modernCalls(url, 2)).toEqual(['call 0', 'call 1']);
    await closed(pair, 3);
    // One client address: one replica has every session, the other nothing.
    expect(await both(pair)).toEqual([zero, { ...zero, streamable: 2, sse: 1, deleted: 3, calls2025: 3, calls2026: 2 }]);
  });
});
