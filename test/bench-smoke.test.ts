import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Row {
  measure: string;
  target: string;
  unit: string;
  'prom-client': number;
  otel: number;
  interval?: { 'prom-client': [number, number]; otel: [number, number] };
  control?: { value: number; interval: [number, number] };
  bare?: number;
  pass: boolean;
  passOtel: boolean;
}

const RATIO_ROWS = [
  'tools/call throughput, monitored / bare (alternated)',
  'tools/call p99 latency, monitored / bare',
  'server CPU per tools/call, monitored / bare',
  'sessions established and deleted per second, monitored / bare',
  'server CPU per session established and deleted, monitored / bare',
];

describe('npm run bench -- --smoke', () => {
  it('runs every measure for both backends, with the bare-against-bare control, and writes the table as JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-exporter-bench-'));
    try {
      const out = join(dir, 'bench.json');
      // Through npm, as users run it: prebench compiles the bench and the code it measures.
      const child = spawn('npm', ['run', '--silent', 'bench', '--', '--smoke', '--out', out], { cwd: ROOT });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code, stderr).toBe(0);
      const result = JSON.parse(readFileSync(out, 'utf8')) as {
        smoke: boolean;
        responses: string;
        machine: { cores: number; node: string; pinned: boolean };
        sizes: { rounds: number; runMs: number };
        rows: Row[];
      };
      expect(result.smoke).toBe(true);
      expect(result.responses).toBe('sse');
      expect(result.machine.node).toBe(process.version);
      expect(typeof result.machine.pinned).toBe('boolean');
      expect(result.sizes).toMatchObject({ rounds: 4, runMs: 100 });
      expect(result.rows.map((r) => r.measure)).toEqual([
        ...RATIO_ROWS,
        '/metrics scrape p50 at 10 open sessions',
        '/metrics scrape p50 at 50 open sessions',
        '/metrics scrape p50 at 100 open sessions',
        '/metrics p50 at 100 / at 10 sessions',
        '/api/mcp/connections default page p50 at 100 sessions',
        'heap per open session, monitored minus bare server (100 sessions each, after GC)',
        'heap per open session in the tracker and monitors alone (100 sessions, after GC)',
        'storm: 1000 vs 100 sessions, cost per session (tracker and events)',
      ]);
      for (const row of result.rows) {
        expect(Number.isFinite(row['prom-client']), row.measure).toBe(true);
        expect(Number.isFinite(row.otel), row.measure).toBe(true);
        const compared = RATIO_ROWS.includes(row.measure);
        // A row that compares with the bare server has intervals, the control and the bare value; no other row does.
        expect(row.interval !== undefined && row.control !== undefined && row.bare !== undefined, row.measure).toBe(compared);
        if (!compared) continue;
        for (const [low, high] of [row.interval?.['prom-client'], row.interval?.otel, row.control?.interval].map((i) => i ?? [NaN, NaN])) {
          expect(low, row.measure).toBeLessThanOrEqual(high ?? NaN);
        }
        expect(row.bare, row.measure).toBeGreaterThan(0);
        expect(Number.isFinite(row.control?.value), row.measure).toBe(true);
      }
      // The printed table: a header, a rule, then one line per measure with its verdicts.
      const lines = stdout.split('\n').filter((line) => line.startsWith('|'));
      expect(lines[0]).toBe('| measure | target | prom-client | otel | control: bare / bare |');
      expect(lines.length).toBe(2 + result.rows.length);
      result.rows.forEach((row, i) => {
        const cells = (lines[2 + i] ?? '').split(' | ');
        expect(cells[0]).toBe(`| ${row.measure}`);
        expect(cells[2]?.endsWith(row.pass ? ' ok' : ' MISSED')).toBe(true);
        expect(cells[3]?.endsWith(row.passOtel ? ' ok' : ' MISSED')).toBe(true);
      });
      // Live progress went to stderr, the table alone to stdout.
      expect(stderr).toContain('tools/call 4/4 rounds: bare ');
      expect(stderr).toContain(`written: ${out}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('refuses a bad option with one line and exit code 2, and lists every option under --help', () => {
    // The first test compiled the bench.
    const run = (...args: string[]) => spawnSync(process.execPath, ['dist-bench/bench/run.js', ...args], { cwd: ROOT, encoding: 'utf8' });
    const rounds = run('--rounds', '0');
    expect(rounds.status).toBe(2);
    expect(rounds.stderr.split('\n')[0]).toBe('bench: --rounds must be a positive whole number, got "0"');
    const responses = run('--responses', 'xml');
    expect(responses.status).toBe(2);
    expect(responses.stderr.split('\n')[0]).toBe('bench: --responses must be sse or json, got "xml"');
    const unknown = run('--fast');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.split('\n')[0]).toMatch(/^bench: Unknown option '--fast'/);
    expect(unknown.stdout).toBe('');
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout.split('\n').filter((line) => line.startsWith('  --')).map((line) => line.trim().split(' ')[0])).toEqual([
      '--smoke',
      '--out',
      '--rounds',
      '--run-ms',
      '--responses',
      '--cpu-prof',
      '--help',
    ]);
  });
});
