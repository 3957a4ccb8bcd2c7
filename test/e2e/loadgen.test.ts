import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLoadgenArgs } from '../../src/cli/loadgen.js';
import { LoadGenerator, type LoadSummary } from '../../src/loadgen/load-generator.js';
import type { MonitoredServer } from '../../src/server.js';
import { createDemoModernHandler } from '../../src/demo/demo-server-v2.js';
import { samples, scrape, startDemo } from '../helpers.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const servers: MonitoredServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const value = (text: string, line: string): number => {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
};

describe('LoadGenerator', () => {
  it('does what its summary says, as the server counts it', async () => {
    const server = await startDemo();
    servers.push(server);
    const generator = new LoadGenerator({
      urls: [server.url],
      rate: 200,
      callsPerSession: 4,
      errorShare: 0.3,
      idleShare: 0.3,
      dropShare: 0,
      durationSeconds: 0,
      maxSessions: 20,
      concurrency: 5,
      seed: 42,
      clientNames: ['a', 'b'],
      modernShare: 0,
      listenShare: 0,
    });
    const summary: LoadSummary = await generator.run();
    expect([summary.sessionsStarted, summary.sessionsFailed, summary.calls]).toEqual([20, 0, 80]);
    expect(summary.deleted + summary.idled).toBe(20);
    expect(summary.callsOk + summary.toolErrors).toBe(80);

    const text = await scrape(server);
    expect(samples(text, 'mcp_server_sessions_total')).toEqual([
      'mcp_server_sessions_total{transport="streamable_http",client_name="a"} 10',
      'mcp_server_sessions_total{transport="streamable_http",client_name="b"} 10',
    ]);
    expect(value(text, 'mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"}')).toBe(summary.deleted);
    // Idle sessions sent no DELETE: they are still open on the server.
    expect(server.tracker.activeCount).toBe(summary.idled);
    const perTool = summary.perUrl[server.url]?.byTool ?? {};
    expect(value(text, 'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="fail",error_type="tool_error",mcp_protocol_version="2025-11-25"}')).toBe(
      summary.toolErrors,
    );
    expect(perTool.fail).toBe(summary.toolErrors);
    expect(value(text, 'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25"}')).toBe(perTool.echo ?? 0);
  });

  it('drives both eras when asked: clients of 2026-07-28 with listen streams beside 2025 sessions, as the server counts them', async () => {
    const server = await startDemo({ modernHandler: createDemoModernHandler() });
    servers.push(server);
    const summary = await new LoadGenerator({
      urls: [server.url],
      rate: 200,
      callsPerSession: 2,
      errorShare: 0,
      idleShare: 0,
      dropShare: 0,
      durationSeconds: 0,
      maxSessions: 20,
      concurrency: 5,
      seed: 3,
      clientNames: ['mixed'],
      modernShare: 0.5,
      listenShare: 1,
    }).run();
    expect(summary.sessionsStarted + summary.modernClients).toBe(20);
    expect(summary.modernClients).toBeGreaterThan(0);
    expect(summary.listens).toBe(summary.modernClients);
    const text = await scrape(server);
    expect(samples(text, 'mcp_server_sessions_total')).toEqual([`mcp_server_sessions_total{transport="streamable_http",client_name="mixed"} ${summary.sessionsStarted}`]);
    expect(samples(text, 'mcp_server_subscriptions_total')).toEqual([`mcp_server_subscriptions_total{client_name="mixed"} ${summary.listens}`]);
    // initialize and two calls a session; discovery, two calls and the listen stream a client of the new era.
    expect(samples(text, 'mcp_server_client_requests_total').sort()).toEqual([
      `mcp_server_client_requests_total{client_name="mixed",mcp_protocol_version="2025-11-25"} ${summary.sessionsStarted * 3}`,
      `mcp_server_client_requests_total{client_name="mixed",mcp_protocol_version="2026-07-28"} ${summary.modernClients * 4}`,
    ]);
  });

  it('repeats its choices for the same seed', async () => {
    const server = await startDemo();
    servers.push(server);
    const run = (seed: number) =>
      new LoadGenerator({
        urls: [server.url],
        rate: 500,
        callsPerSession: 3,
        errorShare: 0.5,
        idleShare: 0,
        dropShare: 0,
        durationSeconds: 0,
        maxSessions: 6,
        concurrency: 1,
        seed,
        clientNames: ['x'],
        modernShare: 0,
        listenShare: 0,
      }).run();
    const first = await run(9);
    const second = await run(9);
    expect(second.perUrl[server.url]?.byTool).toEqual(first.perUrl[server.url]?.byTool);
    expect(second.toolErrors).toBe(first.toolErrors);
  });
});

describe('loadgen arguments', () => {
  it('has defaults for everything but --url', () => {
    expect(parseLoadgenArgs(['--url', 'http://127.0.0.1:1/mcp'])).toEqual({
      urls: ['http://127.0.0.1:1/mcp'],
      rate: 5,
      callsPerSession: 3,
      errorShare: 0.1,
      idleShare: 0.1,
      dropShare: 0.05,
      durationSeconds: 60,
      maxSessions: 0,
      concurrency: 50,
      seed: 1,
      clientNames: ['claude-desktop', 'cursor', 'vscode', 'zed', 'inspector'],
      modernShare: 0,
      listenShare: 0.5,
    });
  });

  it.each([
    [[], 'mcp-exporter: --url: at least one MCP endpoint is required, e.g. --url http://127.0.0.1:3000/mcp'],
    [['--url', 'ftp://x/mcp'], 'mcp-exporter: --url: "ftp://x/mcp" is not an http(s) URL'],
    [['--url', 'http://h/mcp', '--rate', '0'], 'mcp-exporter: --rate: "0" is out of range; use a number from 0.01 to 10000'],
    [['--url', 'http://h/mcp', '--error-share', '1.5'], 'mcp-exporter: --error-share: "1.5" is out of range; use a number from 0 to 1'],
    [['--url', 'http://h/mcp', '--idle-share', '0.7', '--drop-share', '0.5'], 'mcp-exporter: --idle-share + --drop-share: 1.2 is over 1'],
    [['--url', 'http://h/mcp', '--duration', '0'], 'mcp-exporter: --duration: 0 needs --sessions, so the run ends by itself'],
  ])('refuses %j with one line and exit code 2', (args, message) => {
    const result = spawnSync(process.execPath, [CLI, 'loadgen', ...args], { encoding: 'utf8' });
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 2, stdout: '', stderr: `${message}\n` });
  });

  it('prints progress to stderr and the summary as JSON to stdout', async () => {
    const server = await startDemo();
    servers.push(server);
    const args = ['loadgen', '--url', server.url, '--rate', '50', '--sessions', '5', '--duration', '0', '--idle-share', '0', '--drop-share', '0'];
    const child = spawn(process.execPath, [CLI, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as LoadSummary;
    expect([summary.sessionsStarted, summary.deleted, summary.sessionsFailed]).toEqual([5, 5, 0]);
    expect(stderr.split('\n')[0]).toBe('loadgen: 50/s new sessions to 1 endpoint(s), 3 calls each, 5 sessions at most');
    expect(stderr).toContain('\nsummary:\n');
    expect(stderr).toContain('\n  sessions started                         5\n');
    expect(server.tracker.totalCount).toBe(5);
    // Its calls are traced, so the demo's latency panels have exemplars: one per bucket a call fell in.
    const open = await (await fetch(`${server.adminUrl}/metrics`, { headers: { accept: 'application/openmetrics-text' } })).text();
    const exemplars = open.split('\n').filter((line) => line.includes(' # {trace_id="'));
    expect(exemplars.length).toBeGreaterThan(0);
    for (const line of exemplars) expect(line).toMatch(/^mcp_server_operation_duration_seconds_bucket\{le="[^"]+",mcp_method_name="tools\/call",.* # \{trace_id="[0-9a-f]{32}",span_id="[0-9a-f]{16}"\} [\d.e-]+ [\d.]+$/);
  });

  it('against a server that is not there: says why in the summary and one line, and exits 1', async () => {
    // A port that was free a moment ago and is closed now.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const url = `http://127.0.0.1:${port}/mcp`;
    const result = spawnSync(process.execPath, [CLI, 'loadgen', '--url', url, '--rate', '50', '--sessions', '4', '--duration', '0'], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    const summary = JSON.parse(result.stdout) as LoadSummary;
    expect([summary.sessionsStarted, summary.sessionsFailed, summary.failures]).toEqual([0, 4, { ECONNREFUSED: 4 }]);
    expect(result.stderr).toContain('\nfailures, by reason:\n  ECONNREFUSED                             4\n');
    expect(result.stderr.trimEnd().split('\n').pop()).toBe(`loadgen: none of 4 sessions could start (ECONNREFUSED); is the server at ${url} up?`);
  });
});
