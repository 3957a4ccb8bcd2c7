import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { runCli as run, useCliProcesses } from '../cli-process.js';
import { connectClient } from '../helpers.js';

const { start } = useCliProcesses();
const serve = (args: string[]) => start(['serve', ...args]);

describe('mcp-exporter CLI', () => {
  it.each([
    [['--port', 'abc'], {}, 'mcp-exporter: --port: "abc" is not a port; use a whole number from 0 to 65535'],
    [[], { MCP_PORT: '70000' }, 'mcp-exporter: MCP_PORT: "70000" is not a port; use a whole number from 0 to 65535'],
    [[], { MCP_IP_MASKING: 'scramble' }, 'mcp-exporter: MCP_IP_MASKING: "scramble" is not one of none, truncate, hash'],
    [['--log-level', 'loud'], {}, 'mcp-exporter: --log-level: "loud" is not one of trace, debug, info, warn, error, fatal, silent'],
    [['--session-idle-timeout=-5'], {}, 'mcp-exporter: --session-idle-timeout: "-5" is not a duration; use e.g. 30s, 5m, 1h, or a number of seconds'],
    [['--admin-token-file', '/nonexistent/token'], {}, 'mcp-exporter: --admin-token-file: cannot read the file (ENOENT)'],
    [['--metrics-backend', 'statsd'], {}, 'mcp-exporter: --metrics-backend: "statsd" is not one of prom-client, otel'],
    [['--host', 'not a host'], {}, 'mcp-exporter: --host: "not a host" is not an IP address; use e.g. 127.0.0.1, 0.0.0.0 or ::'],
    [[], { MCP_CONNECTION_MONITORING_ENABLED: 'maybe' }, 'mcp-exporter: MCP_CONNECTION_MONITORING_ENABLED: "maybe" is not one of true, false'],
    [['frobnicate'], {}, 'mcp-exporter: unknown command "frobnicate"; commands: serve, proxy, loadgen, help, version'],
  ])('refuses %j %j with one line and exit code 2', (args, env, message) => {
    const result = run(args, env);
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({
      status: 2,
      stdout: '',
      stderr: `${message}\n`,
    });
  });

  it('--help lists every setting with its environment variable; serve --help and proxy --help lead with their own usage', () => {
    const result = run(['--help']);
    expect(result.status).toBe(0);
    for (const [flag, env] of [
      ['--port=3000', '($MCP_PORT)'],
      ['--host=127.0.0.1', '($MCP_HOST)'],
      ['--admin-port=<value>', '($MCP_ADMIN_PORT)'],
      ['--admin-token=<value>', '($MCP_ADMIN_TOKEN)'],
      ['--admin-token-file=<value>', '($MCP_ADMIN_TOKEN_FILE)'],
      ['--session-idle-timeout=30m', '($MCP_SESSION_IDLE_TIMEOUT)'],
      ['--ping-interval=60s', '($MCP_PING_INTERVAL)'],
      ['--metrics-backend=prom-client', '($MCP_METRICS_BACKEND)'],
      ['--ip-masking=truncate', '($MCP_IP_MASKING)'],
      ['--history-limit=1000', '($MCP_HISTORY_LIMIT or $MCP_CONNECTION_HISTORY_LIMIT)'],
      ['--log-level=info', '($MCP_LOG_LEVEL or $MCP_CONNECTION_LOG_LEVEL)'],
    ]) {
      const line = result.stdout.split('\n').find((l) => l.trimStart().startsWith(`${flag} `));
      expect(line, flag).toBeDefined();
      expect(line?.endsWith(env ?? "-"), flag).toBe(true);
    }
    const serve = run(['serve', '--help']);
    const proxy = run(['proxy', '--help']);
    const helpProxy = run(['help', 'proxy']);
    expect([serve.status, proxy.status, helpProxy.status]).toEqual([0, 0, 0]);
    expect(serve.stdout.split('\n')[0]).toBe('usage: mcp-exporter serve [<flags>]');
    expect(proxy.stdout.split('\n')[0]).toBe('usage: mcp-exporter proxy (--stdio="<command> [args]" | --upstream=<url>) [<flags>]');
    expect(helpProxy.stdout).toBe(proxy.stdout);
    expect(result.stdout.split('\n')[0]).toBe('usage: mcp-exporter <command> [<flags>]');
    // The proxy's flags come before the shared ones in its help.
    const lines = proxy.stdout.split('\n');
    expect(lines.findIndex((l) => l.trimStart().startsWith('--stdio='))).toBeLessThan(lines.findIndex((l) => l.trimStart().startsWith('--port=')));
    expect(lines.some((l) => l.trimStart().startsWith('--upstream=<url> '))).toBe(true);
  });

  it('serve: a client shows up in the API and metrics; SIGTERM closes it as server_shutdown and exits 0', async () => {
    const { child, lines, url, exited } = await serve([]);
    const base = url.replace(/\/mcp$/, '');
    const c = await connectClient(url, 'cli-test-client');
    const connections = (await (await fetch(`${base}/api/mcp/connections`)).json()) as { activeConnections: number; connections: { clientName: string }[] };
    expect(connections.activeConnections).toBe(1);
    expect(connections.connections.map((x) => x.clientName)).toEqual(['cli-test-client']);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('\nmcp_server_sessions_active{transport="streamable_http",client_name="cli-test-client"} 1\n');
    expect(metrics).toContain('\nprocess_resident_memory_bytes ');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await c.client.close().catch(() => {});

    const events = lines.map((l) => l.event);
    expect(events).toEqual(['listening', 'mcp_connection_established', 'shutdown', 'mcp_connection_closed', 'stopped']);
    expect(lines[3]).toMatchObject({ reason: 'server_shutdown', clientName: 'cli-test-client', clientIP: '127.0.0.0' });
    expect(lines[4]).toMatchObject({ sessionsClosed: 1, sessionsTotal: 1 });
    // The session id is a credential: no log line carries it.
    expect(JSON.stringify(lines)).not.toContain(c.sessionId);
  });

  it('serve: a port already taken is one line and exit code 2', async () => {
    const first = await serve([]);
    const port = new URL(first.url).port;
    const result = run(['serve', '--port', port]);
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({
      status: 2,
      stdout: '',
      stderr: `mcp-exporter: --port/--host: cannot listen on 127.0.0.1:${port} (EADDRINUSE)\n`,
    });
  });
});

describe('serve, as exporters are', () => {
  it('says what it runs in mcp_exporter_build_info, and answers / with links (also on --admin-port, not on the MCP port then)', async () => {
    const revision = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim();
    const versions = (name: string): string => (JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
    const { url, adminUrl } = await serve(['--admin-port', '0']);
    const metrics = await (await fetch(`${adminUrl}/metrics`)).text();
    expect(metrics.split('\n').filter((line) => line.startsWith('mcp_exporter_build_info'))).toEqual([
      `mcp_exporter_build_info{version="${VERSION}",revision="${revision}",nodejs_version="${process.version}",mcp_sdk_version="${versions('@modelcontextprotocol/sdk')}",mcp_sdk_v2_version="${versions('@modelcontextprotocol/server')}"} 1`,
    ]);
    const landing = await fetch(`${adminUrl}/`);
    expect([landing.status, landing.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    const links = [...(await landing.text()).matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
    expect(links).toEqual(['/metrics', '/api/mcp/status', '/api/mcp/connections', '/api/mcp/connections/history', '/api/mcp/connections/events', '/api/mcp/clients', '/-/healthy', '/-/ready']);
    for (const link of links.filter((l) => !l?.endsWith('/events'))) expect((await fetch(`${adminUrl}${link}`)).status, link).toBe(200);
    const onMcpPort = await fetch(url.replace(/\/mcp$/, '/'));
    expect(onMcpPort.status).toBe(404);
    await onMcpPort.body?.cancel();
  });
});
