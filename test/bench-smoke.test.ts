import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Row {
  measure: string;
  target: string;
  'prom-client': number;
  otel: number;
}

describe('npm run bench -- --smoke', () => {
  it('runs every measure for both backends and writes the table as JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-exporter-bench-'));
    try {
      const out = join(dir, 'bench.json');
      const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out], { cwd: ROOT });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.resume();
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(0);
      const result = JSON.parse(readFileSync(out, 'utf8')) as { smoke: boolean; machine: { cores: number; node: string }; rows: Row[] };
      expect(result.smoke).toBe(true);
      expect(result.machine.node).toBe(process.version);
      expect(result.rows.map((r) => r.measure)).toEqual([
        'tools/call throughput, monitored / bare (alternated)',
        'tools/call p99 latency, monitored / bare',
        'sessions established and deleted per second, monitored / bare',
        '/metrics scrape p50 at 10 open sessions',
        '/metrics scrape p50 at 50 open sessions',
        '/metrics scrape p50 at 100 open sessions',
        '/metrics p50 at 100 / at 10 sessions',
        '/api/mcp/connections default page p50 at 100 sessions',
        'heap per open session in the tracker and monitors (100 sessions, in process, after GC)',
        'heap per open session, whole monitored server minus bare (100 sessions, after GC)',
        'storm: 1000 vs 100 sessions, cost per session (tracker and events)',
      ]);
      for (const row of result.rows) {
        expect(Number.isFinite(row['prom-client']), row.measure).toBe(true);
        expect(Number.isFinite(row.otel), row.measure).toBe(true);
      }
      // The printed table has a line per measure.
      expect(stdout.split('\n').filter((line) => line.startsWith('| ')).length).toBe(1 + result.rows.length); // the header and one line per measure
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
