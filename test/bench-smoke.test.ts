import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcp-exporter-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs an npm script as users run it (prebench compiles the bench and installs the baseline SDKs). */
async function npm(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('npm', ['run', '--silent', script, '--', ...args], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

const tableLines = (stdout: string): string[] => stdout.split('\n').filter((line) => line.startsWith('|'));

interface Window {
  rate: number;
  cpuPerOp: number;
  behindPerOp?: number;
}

interface CrossRow {
  comparison: string;
  measure: string;
  contender: string;
  target: string;
  value: number;
  interval: [number, number];
  bare: number;
  pass: boolean | null;
}

describe('npm run bench -- --smoke (against the SDKs as users install them, one process per server)', () => {
  let run: { code: number | null; stdout: string; stderr: string };
  const out = join(dir, 'cross.json');
  beforeAll(async () => {
    run = await npm('bench', ['--smoke', '--starts', '1', '--out', out]);
  }, 480_000);

  it('measures every comparison, with its noise floor, and writes the table as JSON', () => {
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8')) as {
      view: string;
      smoke: boolean;
      machine: { node: string };
      sizes: { rounds: number; windowMs: number };
      rows: CrossRow[];
      starts: Record<string, Record<string, { windows: Window[]; bare?: Window[] }[]>>;
    };
    expect([result.view, result.smoke, result.machine.node]).toEqual(['cross-process', true, process.version]);
    const servers = (comparison: string) => [...new Set(result.rows.filter((r) => r.comparison === comparison).map((r) => r.contender))];
    expect(servers('v1-http')).toEqual([
      'middleware() on node:http (prom-client)',
      'middleware() on node:http (otel)',
      'middleware() on node:http (prom-client, tracerProvider: null)',
      'startMonitoredServer (prom-client)',
      'startMonitoredServer (otel)',
      'serve (prom-client)',
      'serve (otel)',
      'bare SDK v1 on node:http (again)',
    ]);
    expect(servers('v1-express')).toEqual(['middleware() in express (prom-client)', 'middleware() in express (otel)', 'bare SDK v1 in express (again)']);
    expect(servers('v1-sessions')).toEqual(['middleware() on node:http (prom-client)', 'serve (prom-client)', 'serve (otel)', 'bare SDK v1 on node:http (again)']);
    for (const era of ['v2-2025', 'v2-2026']) {
      expect(servers(era)).toEqual(['nodeHandler (prom-client)', 'nodeHandler (otel)', 'handler + toNodeHandler (prom-client)', 'handler + toNodeHandler (otel)', 'bare SDK v2 (again)']);
    }
    expect(servers('proxy-upstream')).toEqual(['proxy --upstream (prom-client)', 'proxy --upstream (otel)', 'TCP relay (bytes only, no HTTP, no monitoring)']);
    // The relay is the proxies' floor: one row, no target.
    expect(result.rows.filter((r) => r.contender.startsWith('TCP relay')).map((r) => [r.measure, r.target, r.pass])).toEqual([
      ["relay's own CPU per call / the server's behind it", '(floor)', null],
    ]);
    expect(servers('proxy-stdio')).toEqual(['proxy --stdio (prom-client)', 'proxy --stdio (otel)']);
    expect(result.rows.filter((r) => r.target === '<= 0.6').map((r) => [r.contender, r.measure])).toEqual([
      ['proxy --upstream (prom-client)', "proxy's own CPU per call / the server's behind it"],
      ['proxy --upstream (otel)', "proxy's own CPU per call / the server's behind it"],
      ['proxy --stdio (prom-client)', "proxy's own CPU per call / the server's behind it"],
      ['proxy --stdio (otel)', "proxy's own CPU per call / the server's behind it"],
    ]);
    for (const row of result.rows) {
      expect(Number.isFinite(row.value), `${row.comparison} ${row.contender} ${row.measure}`).toBe(true);
      expect(row.bare, `${row.comparison} ${row.measure}`).toBeGreaterThan(0);
      expect(row.interval[0]).toBeLessThanOrEqual(row.interval[1]);
    }
    // Every start of every server is kept, to look at afterwards: a smoke run's 500 ms in
    // rounds of 250 ms windows, each beside a window of a bare server started with it (the
    // bare server's samples: one for each other server), CPU and the server behind a proxy
    // read per window.
    expect(Object.keys(result.starts)).toEqual(['v1-http', 'v1-express', 'v1-sessions', 'v2-2025', 'v2-2026', 'proxy-upstream', 'proxy-stdio']);
    expect([result.sizes.rounds, result.sizes.windowMs]).toEqual([2, 250]);
    for (const [comparison, byServer] of Object.entries(result.starts)) {
      const [bareName, ...others] = Object.keys(byServer);
      expect(bareName, comparison).toMatch(/^bare SDK v/);
      expect(byServer[bareName as string]?.map((s) => [s.windows.length, s.bare]), comparison).toEqual(others.map(() => [2, undefined]));
      for (const [server, samples] of Object.entries(byServer)) {
        if (server !== bareName) expect(samples.map((s) => [s.windows.length, s.bare?.length]), `${comparison} ${server}`).toEqual([[2, 2]]);
        for (const w of samples.flatMap((s) => [...s.windows, ...(s.bare ?? [])])) {
          expect(w.rate > 0 && w.cpuPerOp > 0, `${comparison} ${server}`).toBe(true);
        }
        for (const w of samples.flatMap((s) => s.windows)) {
          expect(w.behindPerOp === undefined, `${comparison} ${server}`).toBe(!comparison.startsWith('proxy') || server === bareName);
        }
      }
    }
  });

  it('prints the table to stdout, progress to stderr, and gives a smoke run no verdict', () => {
    const lines = tableLines(run.stdout);
    expect(lines[0]).toBe('| comparison | measure | server | target | ratio to bare [95%] | bare |');
    expect(run.stdout).not.toContain('MISSED');
    expect(run.stdout).toContain('(smoke: no verdict)');
    expect(run.stderr).toContain('a smoke run checks the bench works: its numbers are too few for the targets, so no verdict is given');
    expect(run.stderr).toContain('v1-http start 1/1: bare ');
    expect(run.stderr).toContain(`written: ${out}`);
    // 7 on node:http, 2 in express, 3 churning sessions, 2 x 4 on the SDK v2: 3 targets each; 4 proxies: 1 each.
    expect(run.stderr).toContain('summary: smoke run, 64 targets not judged\n');
  });

  it('refuses a bad option with one line and exit code 2, and lists every option under --help', () => {
    const bench = (...args: string[]) => spawnSync(process.execPath, ['dist-bench/bench/run.js', ...args], { cwd: ROOT, encoding: 'utf8' });
    const starts = bench('--starts', '0');
    expect([starts.status, starts.stderr.split('\n')[0]]).toEqual([2, 'bench: --starts must be a positive whole number, got "0"']);
    const only = bench('--only', 'v3');
    expect([only.status, only.stderr.split('\n')[0]]).toEqual([2, 'bench: --only: unknown comparison v3']);
    const unknown = bench('--fast');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.split('\n')[0]).toMatch(/^bench: Unknown option '--fast'/);
    const help = bench('--help');
    expect(help.status).toBe(0);
    expect(help.stdout.split('\n').filter((line) => line.startsWith('  --')).map((line) => line.trim().split(' ')[0])).toEqual([
      '--smoke',
      '--out',
      '--starts',
      '--warm-ms',
      '--measure-ms',
      '--only',
      '--help',
    ]);
  });
});

describe('npm run bench:same-process -- --smoke (every server in one process)', () => {
  it('runs every measure for both backends, with the bare-against-bare control', async () => {
    const out = join(dir, 'same.json');
    const { code, stdout, stderr } = await npm('bench:same-process', ['--smoke', '--out', out]);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8')) as { smoke: boolean; rows: { measure: string; 'prom-client': number; otel: number }[] };
    expect(result.smoke).toBe(true);
    expect(result.rows.map((r) => r.measure)).toEqual([
      'tools/call throughput, monitored / bare (alternated)',
      'tools/call p99 latency, monitored / bare',
      'server CPU per tools/call, monitored / bare',
      'sessions established and deleted per second, monitored / bare',
      'server CPU per session established and deleted, monitored / bare',
      '/metrics scrape p50 at 10 open sessions',
      '/metrics scrape p50 at 50 open sessions',
      '/metrics scrape p50 at 100 open sessions',
      '/metrics p50 at 100 / at 10 sessions',
      '/api/mcp/connections default page p50 at 100 sessions',
      'heap per open session, monitored minus bare server (100 sessions each, after GC)',
      'heap per open session in the tracker and monitors alone (100 sessions, after GC)',
      'storm: 1000 vs 100 sessions, cost per session (tracker and events)',
    ]);
    for (const row of result.rows) expect(Number.isFinite(row['prom-client']) && Number.isFinite(row.otel), row.measure).toBe(true);
    expect(tableLines(stdout)[0]).toBe('| measure | target | prom-client | otel | control: bare / bare |');
    expect(stdout).not.toContain('MISSED');
    expect(stderr).toContain('tools/call 4/4 rounds: bare ');
  }, 240_000);
});

describe('npm run bench:soak -- --smoke (held and churned sessions against serve, counts checked)', () => {
  it('ends every session the way its client left, and every count the server reports is the clients\' own', async () => {
    const out = join(dir, 'soak.json');
    const { code, stdout, stderr } = await npm('bench:soak', ['--smoke', '--out', out]);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8')) as { held: number; churn: number; checks: { what: string; expected: number; got: number }[]; heaps: Record<string, unknown> };
    expect([result.held, result.churn, Object.keys(result.heaps)]).toEqual([20, 200, ['start', 'held', 'afterHeld', 'end']]);
    // 200 warm-up sessions, 20 held (14 Streamable HTTP, 6 SSE), then 200 churned, 20 of each way
    // but DELETE (80), the 20 killed ones half SSE and half Streamable HTTP.
    const calls = result.checks.find((c) => c.what === 'tools/call operations')?.expected ?? 0;
    const fds = result.checks.find((c) => c.what === 'open file descriptors, end against start');
    expect(fds && fds.got === fds.expected, JSON.stringify(fds)).toBe(true);
    expect(result.checks.filter((c) => c !== fds).map((c) => `${c.what}: ${c.got}`)).toEqual([
      'sessions opened, streamable_http: 364',
      'sessions closed, streamable_http, client_delete: 294',
      'sessions closed, streamable_http, idle_timeout: 50',
      'sessions closed, streamable_http, ping_timeout: 20',
      'sessions closed, streamable_http, server_shutdown: 0',
      'sessions closed, streamable_http, transport_error: 0',
      'sessions opened, sse: 56',
      'sessions closed, sse, client_delete: 36',
      'sessions closed, sse, idle_timeout: 0',
      'sessions closed, sse, ping_timeout: 20',
      'sessions closed, sse, server_shutdown: 0',
      'sessions closed, sse, transport_error: 0',
      'sessions active: 0',
      'held sessions active at the end of the hold: 20',
      'held calls that failed: 0',
      `tools/call operations: ${calls}`,
      'requests refused: 0',
    ]);
    // At least one call from each held client, plus 100 from the churn and 200 from the warm-up.
    expect(calls).toBeGreaterThanOrEqual(20 + 100 + 200);
    expect(result.checks.filter((c) => c.expected !== c.got)).toEqual([]);
    expect(stdout).not.toContain('MISMATCH');
    expect(stderr).toContain('18 of 18 checks exact');
  }, 120_000);

  it('refuses a bad option with one line and exit code 2', () => {
    const soak = spawnSync(process.execPath, ['dist-bench/bench/soak.js', '--churn', '5'], { cwd: ROOT, encoding: 'utf8' });
    expect([soak.status, soak.stderr.split('\n')[0]]).toEqual([2, 'bench: --churn must be a whole number of at least 10, got "5"']);
  });
});

describe('npm run bench:side-by-side (apps of bench/baseline side by side, loaded in turn)', () => {
  it('measures each app window by window against the first, with its garbage-collection pauses', async () => {
    const run = await npm('bench:side-by-side', ['--servers', 'v1-http.mjs:none,v1-http.mjs:prom', '--load', 'churn', '--rounds', '2', '--window-ms', '200', '--warm-ms', '1000']);
    expect(run.code, run.stderr).toBe(0);
    const rows = tableLines(run.stdout).map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
    expect(rows[0]).toEqual([
      'server',
      'operations a window',
      'CPU µs per operation',
      'against the first, median of rounds',
      'GC scavenge µs per operation',
      'GC mark-compact µs per operation',
    ]);
    expect(rows.slice(2).map((row) => row[0])).toEqual(['v1-http.mjs:none', 'v1-http.mjs:prom']);
    // The first app is the reference: its own ratio is exactly 1 in every round.
    expect(rows[2]?.[3]).toBe('1.000');
    for (const row of rows.slice(2)) {
      const [ops, cpu, ratio, minor, major] = row.slice(1).map(Number);
      expect([ops, cpu, ratio].every((n) => n !== undefined && n > 0), row.join(' ')).toBe(true);
      expect([minor, major].every((n) => n !== undefined && n >= 0), row.join(' ')).toBe(true);
    }
    expect(run.stderr.split('\n').filter((line) => line.startsWith('  round '))).toHaveLength(2);
    expect(run.stderr).toMatch(/^bench: side by side on core 1: v1-http\.mjs:none \(pid \d+\), v1-http\.mjs:prom \(pid \d+\); load churn$/m);
  }, 240_000);

  it('refuses a bad option with one line and exit code 2, lists every option under --help, and refuses an app that cannot take the load with one line and exit code 1', () => {
    const sideBySide = (...args: string[]) => spawnSync(process.execPath, ['dist-bench/bench/side-by-side.js', ...args], { cwd: ROOT, encoding: 'utf8' });
    const load = sideBySide('--load', 'nope');
    expect([load.status, load.stderr.split('\n')[0]]).toEqual([2, 'bench: --load must be one of calls, churn, stateless-2025, modern, got "nope"']);
    const servers = sideBySide('--servers', 'v1-http.mjs:none');
    expect([servers.status, servers.stderr.split('\n')[0]]).toEqual([2, 'bench: --servers needs two apps at least: the first is the reference']);
    const app = sideBySide('--servers', 'v3.mjs:none,v1-http.mjs:prom');
    expect([app.status, app.stderr.split('\n')[0]]).toEqual([2, 'bench: --servers: "v3.mjs:none" is not FILE:BACKEND with FILE an app of bench/baseline (v1-http.mjs, v1-express.mjs, v2.mjs)']);
    const help = sideBySide('--help');
    expect([help.status, help.stdout.split('\n').filter((line) => line.startsWith('  --')).map((line) => line.trim().split(' ')[0])]).toEqual([
      0,
      ['--servers', '--load', '--rounds', '--window-ms', '--warm-ms', '--help'],
    ]);
    // The SDK v2 app serves 2025 requests without sessions: --load calls opens sessions it never gives.
    const v2 = sideBySide('--servers', 'v2.mjs:none,v2.mjs:prom:nodeHandler', '--rounds', '1', '--window-ms', '100', '--warm-ms', '100');
    expect([v2.status, v2.stderr.trim().split('\n').at(-1)]).toEqual([
      1,
      'bench: v2.mjs:none opens no 2025 session (initialize answered 200): use --load stateless-2025 or modern',
    ]);
  });
});
