/**
 * docs/reference.md is the contract users and dashboards depend on: every metric family the
 * exporter serves, with its labels, under both metrics backends, and every reason and log
 * event the code can produce. The exporter runs as users run it (serve and proxy, as child
 * processes), with traffic that makes every family show, and the table must match it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_REASONS, REJECT_REASONS, UPSTREAM_FAILURES } from '../src/core/types.js';
import { LoadGenerator } from '../src/loadgen/load-generator.js';
import { OPERATION_BUCKETS, SESSION_BUCKETS } from '../src/metrics/names.js';
import { useCliProcesses } from './cli-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const reference = readFileSync(join(ROOT, 'docs/reference.md'), 'utf8');
const { start } = useCliProcesses('file');

/** The metrics table of docs/reference.md: family -> its type and sorted label names. */
function documented(): Map<string, string> {
  const from = reference.indexOf('| family | type | labels |');
  const section = reference.slice(from, reference.indexOf('\n\n', from));
  const rows = [...section.matchAll(/^\| `([a-z_]+)` \| (\w+) \| ([^|]+) \|/gm)];
  return new Map(rows.map(([, name = '', type = '', labels = '']) => [name, `${type} {${labels.trim() === '(none)' ? '' : labels.split(',').map((l) => l.trim()).sort().join(',')}}`]));
}

/** What an exposition serves: mcp_* family -> its type and the label names its samples carry. */
function served(exposition: string): Map<string, string> {
  const types = new Map([...exposition.matchAll(/^# TYPE (mcp_\w+) (\w+)$/gm)].map(([, name = '', type = '']) => [name, type]));
  const labels = new Map<string, Set<string>>([...types.keys()].map((name) => [name, new Set<string>()]));
  for (const [, name = '', text = ''] of exposition.matchAll(/^(mcp_\w+?)(?:_bucket|_sum|_count)?\{([^}]*)\}/gm)) {
    const family = types.has(name) ? name : [...types.keys()].find((f) => name.startsWith(f));
    for (const [, label = ''] of text.matchAll(/(\w+)="/g)) if (family && label !== 'le' && !label.startsWith('otel_scope_')) labels.get(family)?.add(label);
  }
  return new Map([...types].map(([name, type]) => [name, `${type} {${[...(labels.get(name) ?? [])].sort().join(',')}}`]));
}

const scrape = async (adminUrl: string): Promise<string> => (await fetch(`${adminUrl}/metrics`)).text();

describe('docs/reference.md against a running exporter', () => {
  const expositions = new Map<string, string>();

  beforeAll(async () => {
    for (const backend of ['prom-client', 'otel']) {
      const server = await start(['serve', '--metrics-backend', backend]);
      const proxy = await start(['proxy', '--upstream', server.url, '--metrics-backend', backend]);
      // Both eras through the proxy: sessions (ended by DELETE), calls with tool errors, clients
      // of 2026-07-28 holding listen streams; every family then has a series on both processes.
      const summary = await new LoadGenerator({
        urls: [proxy.url],
        rate: 50,
        callsPerSession: 2,
        errorShare: 0.3,
        idleShare: 0,
        dropShare: 0,
        durationSeconds: 0,
        maxSessions: 12,
        concurrency: 12,
        seed: 3,
        clientNames: ['reference-client'],
        modernShare: 0.5,
        listenShare: 1,
      }).run();
      expect([summary.sessionsFailed, summary.listens > 0, summary.sessionsStarted > 0]).toEqual([0, true, true]);
      expositions.set(backend, `${await scrape(server.adminUrl)}\n${await scrape(proxy.adminUrl)}`);
    }
  }, 60_000);

  it.each(['prom-client', 'otel'])('lists every mcp_* family the exporter serves, with its type and labels, and nothing it does not (%s)', (backend) => {
    const docs = documented();
    expect(docs.size).toBe(13);
    expect(Object.fromEntries(served(expositions.get(backend) ?? ''))).toEqual(Object.fromEntries(docs));
  });

  it('gives the histogram buckets the code uses', () => {
    const text = reference.replace(/\s+/g, ' ');
    expect(text).toContain(`operations ${OPERATION_BUCKETS.join(', ')};`);
    expect(text).toContain(`sessions and listen streams ${SESSION_BUCKETS.join(', ')}.`);
  });

  it('names every close reason, refusal reason and upstream failure the code has', () => {
    const named = (value: string): boolean => reference.includes(`\`${value}\``);
    expect([...CLOSE_REASONS, ...REJECT_REASONS, ...UPSTREAM_FAILURES].filter((value) => !named(value))).toEqual([]);
  });

  it('names every log event the code writes', () => {
    const files = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    const events = new Set(files.flatMap((file) => [...readFileSync(join(ROOT, 'src', file), 'utf8').matchAll(/event: '([a-z_]+)'/g)].map((m) => m[1] ?? '')));
    expect(events.size).toBeGreaterThanOrEqual(15);
    const table = reference.slice(reference.indexOf('## Log lines'));
    expect([...events].filter((event) => !table.includes(`\`${event}\``))).toEqual([]);
  });
});
