/**
 * `npm run bench`: the monitored server against the bare MCP SDK server, on this machine,
 * in one run. Prints a table (and writes it as JSON) of the measures and their targets.
 *
 *   npm run bench                  the full run (several minutes)
 *   npm run bench -- --smoke       a tiny run that checks the benchmark works (seconds)
 *   npm run bench -- --out f.json  where the JSON goes (default bench-results.json)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { ConnectionHistory } from '../src/core/history.js';
import { SessionTracker } from '../src/core/session-tracker.js';
import type { ConnectionMonitor } from '../src/core/types.js';
import { ConnectionEventStream } from '../src/http/event-stream.js';
import { OtelMonitor } from '../src/metrics/otel-monitor.js';
import { createPrometheusReader, prometheusViews } from '../src/metrics/otel-prometheus.js';
import { PromClientMonitor } from '../src/metrics/prom-client-monitor.js';
import { callBody, closeSession, median, openSession, percentile, pool, post, runFor, send } from './http-client.js';

const { values } = parseArgs({ options: { smoke: { type: 'boolean' }, out: { type: 'string' } } });
const smoke = values.smoke === true;
const out = values.out ?? 'bench-results.json';

const SIZES = smoke
  ? { rounds: 1, runMs: 300, concurrency: 4, levels: [10, 50, 100], storm: [100, 1000], scrapes: 5 }
  : { rounds: 4, runMs: 5000, concurrency: 16, levels: [10, 1000, 10000], storm: [1000, 10000], scrapes: 40 };

type Kind = 'bare' | 'monitored' | 'monitored-otel';
interface Child {
  kind: Kind;
  process: ChildProcess;
  port: number;
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

function startChild(kind: Kind): Promise<Child> {
  const child = fork(fileURLToPath(new URL('./server.ts', import.meta.url)), [kind], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message: { port?: number }) => resolve({ kind, process: child, port: message.port ?? 0 }));
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
}

function heapUsed(child: Child): Promise<number> {
  return new Promise((resolve) => {
    child.process.once('message', (message: { heapUsed?: number }) => resolve(message.heapUsed ?? 0));
    child.process.send({ cmd: 'heap' });
  });
}

/** tools/call throughput (requests/s) and latencies for one server, over already-open sessions. */
async function callRun(child: Child, sessions: Record<string, string>[]): Promise<{ rps: number; latencies: number[] }> {
  const started = performance.now();
  const latencies = await runFor(SIZES.runMs, SIZES.concurrency, async (loop, i) => {
    const res = await post(child.port, '/mcp', callBody(i + 1), sessions[loop] ?? {});
    if (res.status !== 200) throw new Error(`${child.kind}: tools/call answered ${res.status}`);
  });
  return { rps: latencies.length / ((performance.now() - started) / 1000), latencies };
}

/** Sessions opened and deleted per second. */
async function churnRun(child: Child): Promise<number> {
  const started = performance.now();
  const done = await runFor(SIZES.runMs, SIZES.concurrency, async () => {
    const headers = await openSession(child.port);
    await closeSession(child.port, headers);
  });
  return done.length / ((performance.now() - started) / 1000);
}

async function timeGets(port: number, path: string, count: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const res = await send(port, 'GET', path, undefined);
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
    times.push(performance.now() - start);
  }
  return median(times);
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** A tracker with the backend's monitors, the history and an event stream with one live subscriber. */
async function stormRig(backend: 'prom-client' | 'otel') {
  const tracker = new SessionTracker();
  const monitors: ConnectionMonitor[] = [new ConnectionHistory(1000)];
  if (backend === 'prom-client') monitors.push(new PromClientMonitor(new Registry()));
  else monitors.push(new OtelMonitor({ meterProvider: new MeterProvider({ readers: [createPrometheusReader()], views: prometheusViews() }) }));
  const events = new ConnectionEventStream({ tracker });
  monitors.push(events);
  for (const monitor of monitors) tracker.subscribe(monitor);
  // One live subscriber, so the event work is done, not skipped.
  const http = createServer((req, res) => events.subscribe(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  const subscriber = await new Promise<import('node:http').IncomingMessage>((resolve) =>
    get({ host: '127.0.0.1', port: (http.address() as AddressInfo).port, path: '/' }, resolve),
  );
  subscriber.resume();
  return {
    tracker,
    close: async () => {
      events.close();
      subscriber.destroy();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const start = (i: number) => ({
  sessionId: `${i.toString(16).padStart(8, '0')}-5e55-4a0d-9c1e-0123456789ab`,
  clientIP: '203.0.113.0',
  userAgent: 'node',
  transport: 'streamable_http' as const,
  clientName: `client-${i % 50}`,
  clientVersion: '1.0.0',
  protocolVersion: '2025-06-18',
});

/**
 * CPU time of `n` sessions established, then closed. The loop yields every 100 sessions,
 * as a storm arriving over HTTP does, so the event stream's socket drains as it would.
 */
async function stormCpuMs(n: number, backend: 'prom-client' | 'otel'): Promise<number> {
  const rig = await stormRig(backend);
  gc();
  const began = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    rig.tracker.establish(start(i));
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
  for (let i = 0; i < n; i++) {
    rig.tracker.close(start(i).sessionId, 'client_delete');
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
  const used = process.cpuUsage(began);
  await rig.close();
  return (used.user + used.system) / 1000;
}

/** Heap held per open session by the tracker and its monitors, after GC. */
async function trackerHeapPerSession(n: number, backend: 'prom-client' | 'otel'): Promise<number> {
  const rig = await stormRig(backend);
  for (let i = 0; i < 100; i++) rig.tracker.establish(start(n + i)); // label series and code paths exist before the baseline
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) {
    rig.tracker.establish(start(i));
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
  // Let the subscriber read what the events wrote, so socket buffers are not counted.
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  await rig.close();
  return (after - before) / n;
}

interface Row {
  measure: string;
  target: string;
  bare?: number;
  'prom-client': number;
  otel: number;
  unit: string;
  pass: boolean;
  passOtel: boolean;
}

async function main(): Promise<void> {
  log(`bench: ${smoke ? 'smoke run' : 'full run'}; ${cpus().length} cores, Node ${process.version}`);
  const bare = await startChild('bare');
  const monitored = await startChild('monitored');
  const otel = await startChild('monitored-otel');
  const children = [bare, monitored, otel];
  try {
    const sessions = new Map<Kind, Record<string, string>[]>();
    for (const child of children) {
      sessions.set(child.kind, await Promise.all(Array.from({ length: SIZES.concurrency }, () => openSession(child.port))));
      await callRun(child, sessions.get(child.kind) ?? []); // warm-up
    }

    // Throughput and latency: bare and monitored runs alternate, so drift hits both alike.
    const rps = new Map<Kind, number[]>(children.map((c) => [c.kind, []]));
    const lat = new Map<Kind, number[]>(children.map((c) => [c.kind, []]));
    for (let round = 0; round < SIZES.rounds; round++) {
      const order = round % 2 === 0 ? children : [...children].reverse();
      for (const child of order) {
        const run = await callRun(child, sessions.get(child.kind) ?? []);
        rps.get(child.kind)?.push(run.rps);
        lat.get(child.kind)?.push(...run.latencies);
        log(`  round ${round + 1}/${SIZES.rounds} ${child.kind.padEnd(14)} tools/call ${run.rps.toFixed(0)}/s p99 ${percentile(run.latencies, 99).toFixed(2)} ms`);
      }
    }
    const churn = new Map<Kind, number[]>(children.map((c) => [c.kind, []]));
    for (let round = 0; round < SIZES.rounds; round++) {
      const order = round % 2 === 0 ? children : [...children].reverse();
      for (const child of order) {
        const perSecond = await churnRun(child);
        churn.get(child.kind)?.push(perSecond);
        log(`  round ${round + 1}/${SIZES.rounds} ${child.kind.padEnd(14)} sessions ${perSecond.toFixed(0)}/s`);
      }
    }

    // Open sessions up to each level; scrape and list at each; heap before and after.
    const heapBefore = new Map<Kind, number>();
    for (const child of children) heapBefore.set(child.kind, await heapUsed(child));
    const scrape = new Map<Kind, number[]>(children.map((c) => [c.kind, []]));
    let open = 0;
    for (const level of SIZES.levels) {
      const add = level - open;
      for (const child of children) await pool(add, 32, async () => void (await openSession(child.port)));
      open = level;
      for (const child of [monitored, otel]) scrape.get(child.kind)?.push(await timeGets(child.port, '/metrics', SIZES.scrapes));
      log(`  ${level} open sessions: /metrics p50 ${scrape.get('monitored')?.at(-1)?.toFixed(2)} ms (prom-client), ${scrape.get('monitored-otel')?.at(-1)?.toFixed(2)} ms (otel)`);
    }
    const listing = new Map<Kind, number>();
    for (const child of [monitored, otel]) listing.set(child.kind, await timeGets(child.port, '/api/mcp/connections', SIZES.scrapes));
    const heapPerSession = new Map<Kind, number>();
    const growth = new Map<Kind, number>();
    for (const child of children) growth.set(child.kind, (await heapUsed(child)) - (heapBefore.get(child.kind) ?? 0));
    for (const child of [monitored, otel]) {
      heapPerSession.set(child.kind, ((growth.get(child.kind) ?? 0) - (growth.get('bare') ?? 0)) / open);
    }
    log(`  heap growth for ${open} sessions: bare ${((growth.get('bare') ?? 0) / 1024 / 1024).toFixed(1)} MiB, monitored ${((growth.get('monitored') ?? 0) / 1024 / 1024).toFixed(1)} MiB`);

    const storm = async (backend: 'prom-client' | 'otel'): Promise<number> => {
      const [small, large] = SIZES.storm as [number, number];
      for (let i = 0; i < 3; i++) {
        await stormCpuMs(small, backend); // warm-up: JIT, label series
        await stormCpuMs(large, backend);
      }
      const smallRuns: number[] = [];
      const largeRuns: number[] = [];
      for (let i = 0; i < 7; i++) {
        smallRuns.push(await stormCpuMs(small, backend));
        largeRuns.push(await stormCpuMs(large, backend));
      }
      log(`  storm ${backend}: ${small} sessions ${median(smallRuns).toFixed(1)} ms CPU, ${large} sessions ${median(largeRuns).toFixed(1)} ms CPU (medians of 7)`);
      return median(largeRuns) / median(smallRuns) / (large / small);
    };
    const stormProm = await storm('prom-client');
    const stormOtel = await storm('otel');
    const highest = SIZES.levels.at(-1) ?? 0;
    const trackerHeap = { prom: await trackerHeapPerSession(highest, 'prom-client'), otel: await trackerHeapPerSession(highest, 'otel') };

    const ratio = (kind: Kind, map: Map<Kind, number[]>) => median(map.get(kind) ?? []) / median(map.get('bare') ?? []);
    const p99 = (kind: Kind) => percentile(lat.get(kind) ?? [], 99);
    const [low = 0, , high = 0] = SIZES.levels;
    const rows: Row[] = [
      row('tools/call throughput, monitored / bare (alternated)', '>= 0.97', ratio('monitored', rps), ratio('monitored-otel', rps), 'ratio', (v) => v >= 0.97, median(rps.get('bare') ?? [])),
      row('tools/call p99 latency, monitored / bare', '<= 1.05', p99('monitored') / p99('bare'), p99('monitored-otel') / p99('bare'), 'ratio', (v) => v <= 1.05, p99('bare')),
      row('sessions established and deleted per second, monitored / bare', '>= 0.95', ratio('monitored', churn), ratio('monitored-otel', churn), 'ratio', (v) => v >= 0.95, median(churn.get('bare') ?? [])),
      ...SIZES.levels.map((level, i) =>
        row(`/metrics scrape p50 at ${level} open sessions`, level === high ? '< 5 ms' : 'flat', scrape.get('monitored')?.[i] ?? NaN, scrape.get('monitored-otel')?.[i] ?? NaN, 'ms', (v) => level !== high || v < 5),
      ),
      row(`/metrics p50 at ${high} / at ${low} sessions`, '<= 2 (flat)', (scrape.get('monitored')?.at(-1) ?? NaN) / (scrape.get('monitored')?.[0] ?? NaN), (scrape.get('monitored-otel')?.at(-1) ?? NaN) / (scrape.get('monitored-otel')?.[0] ?? NaN), 'ratio', (v) => v <= 2),
      row(`/api/mcp/connections default page p50 at ${high} sessions`, '< 20 ms', listing.get('monitored') ?? NaN, listing.get('monitored-otel') ?? NaN, 'ms', (v) => v < 20),
      row(`heap per open session in the tracker and monitors (${high} sessions, in process, after GC)`, '< 1 KiB', trackerHeap.prom, trackerHeap.otel, 'bytes', (v) => v < 1024),
      row(`heap per open session, whole monitored server minus bare (${open} sessions, after GC)`, '< 1 KiB', heapPerSession.get('monitored') ?? NaN, heapPerSession.get('monitored-otel') ?? NaN, 'bytes', (v) => v < 1024),
      row(`storm: ${SIZES.storm[1]} vs ${SIZES.storm[0]} sessions, cost per session (tracker and events)`, '<= 1.1 (10x costs <= 11x)', stormProm, stormOtel, 'ratio', (v) => v <= 1.1),
    ];
    print(rows);
    writeFileSync(out, `${JSON.stringify({ machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? '', node: process.version }, smoke, sizes: SIZES, rows }, null, 2)}\n`);
    log(`written: ${out}`);
  } finally {
    for (const child of children) child.process.kill();
  }
}

function row(measure: string, target: string, prom: number, otelValue: number, unit: string, ok: (v: number) => boolean, bareValue?: number): Row {
  return { measure, target, bare: bareValue, 'prom-client': prom, otel: otelValue, unit, pass: ok(prom), passOtel: ok(otelValue) };
}

function print(rows: readonly Row[]): void {
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3));
  const lines = [
    '| measure | target | prom-client | otel |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.measure} | ${r.target} | ${fmt(r['prom-client'])} ${r.unit} ${r.pass ? 'ok' : 'MISSED'} | ${fmt(r.otel)} ${r.unit} ${r.passOtel ? 'ok' : 'MISSED'} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
