/**
 * `npm run bench`: what monitoring costs against the MCP SDK as users install it. The bare
 * servers run from bench/baseline (the SDKs and what `npm install` gives with them, in a
 * directory of their own); the monitored ones run this project, in its own dependency tree,
 * so its dependency choices are part of what is measured. Every server is a process of its
 * own, pinned to one core (the load client has the other), started afresh many times in
 * alternation; a second bare server in every comparison is the noise floor, and a TCP relay
 * in front of the proxies' server is the floor of what relaying costs.
 * `npm run bench -- --help` lists the options; `npm run bench:same-process` is the other view.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchArgs, failWith, positiveWhole } from './cli-args.js';
import type { CallShape } from './http-client.js';
import type { LoadAnswer } from './load-worker.js';
import { canPin, CORES, cpuMicros, pin, startLoad, startServer, type Load, type Running } from './process-tools.js';
import { median, pairedEstimate, percentile, type Estimate } from './stats.js';

const USAGE = 'usage: npm run bench -- [--smoke] [--out FILE] [--starts N] [--warm-ms MS] [--measure-ms MS] [--only NAME,...]';
const HELP = `Measures this project's monitored servers against the bare MCP SDK servers as users
install them (bench/baseline), each server in a process of its own, and prints the table.

${USAGE}

  --smoke            a small run that checks the benchmark works (seconds)
  --out FILE         where the table goes as JSON (default bench-results.json)
  --starts N         starts of every server in a comparison (default 4)
  --warm-ms MS       least load before each measurement, after each start (default 5000);
                     the warm-up goes on in 1 s slices while the rate still rises (a slice
                     more than 5% faster than both before it), 12 s at most
  --measure-ms MS    the measured load of each server in each start (default 4000), in
                     0.5 s windows, each beside a window of the bare server
  --only NAMES       comparisons to run, comma-separated: ${'v1-http, v1-express, v1-sessions, v2-2025, v2-2026, proxy-upstream, proxy-stdio'}
  --help             this text
`;

const fail = failWith(USAGE);
const values = benchArgs(
  () =>
    parseArgs({
      options: {
        smoke: { type: 'boolean' },
        out: { type: 'string' },
        starts: { type: 'string' },
        'warm-ms': { type: 'string' },
        'measure-ms': { type: 'string' },
        only: { type: 'string' },
        help: { type: 'boolean' },
      },
    }),
  USAGE,
  HELP,
);
const positive = (name: string, text: string | undefined, fallback: number): number => (text === undefined ? fallback : positiveWhole(fail, name, text));
const smoke = values.smoke === true;
const measureMs = positive('measure-ms', values['measure-ms'], smoke ? 500 : 4000);
/** A measured window: short enough that a round (the bare server's window and the other's) is over before the machine's pace changes much. */
const windowMs = smoke ? 250 : 500;
const SIZES = {
  starts: positive('starts', values.starts, smoke ? 2 : 4),
  warmMs: positive('warm-ms', values['warm-ms'], smoke ? 300 : 5000),
  /** Longest warm-up: a server still speeding up by then is measured as it is, and the row says so. */
  maxWarmMs: smoke ? 300 : 12_000,
  windowMs,
  /** Windows of each server in each start. */
  rounds: Math.max(1, Math.round(measureMs / windowMs)),
  /** Unmeasured load before each window: the core has just served the other server of the pair. */
  rewarmMs: smoke ? 50 : 250,
  connections: smoke ? 4 : 16,
};
const out = values.out ?? 'bench-results.json';
const log = (line: string): void => void process.stderr.write(`${line}\n`);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BASELINE = fileURLToPath(new URL('../../bench/baseline/', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const node = process.execPath;

// ---------------------------------------------------------------- the servers

/** A server under measure, started afresh for each start: where its CPU is read, and how to end it. */
interface Started {
  port: number;
  /** CPU of the process(es) the comparison is about, in µs so far. */
  cpu(): number;
  /** CPU of the server behind a proxy (its upstream, or its stdio children), when there is one. */
  behind?: () => number;
  stop(): Promise<void>;
}

interface Contender {
  name: string;
  start(): Promise<Started>;
}

const own = (running: Running): Started => ({ port: running.port, cpu: () => cpuMicros(running.child.pid ?? 0).own, stop: running.stop });

type Backend = 'prom-client' | 'otel';
const BACKENDS: readonly Backend[] = ['prom-client', 'otel'];
const flag = (backend: Backend): string => (backend === 'prom-client' ? 'prom' : 'otel');

/** A user's app in bench/baseline (the SDKs as users install them), bare or with the monitoring lines a user adds. */
const APP = (name: string, file: string, args: readonly string[]): Contender => ({ name, start: async () => own(await startServer(node, [`${BASELINE}${file}`, ...args])) });
const V1_HTTP = (name = 'bare SDK v1 on node:http'): Contender => APP(name, 'v1-http.mjs', ['none']);
const V1_EXPRESS = (name = 'bare SDK v1 in express'): Contender => APP(name, 'v1-express.mjs', ['none']);
const V2 = (name = 'bare SDK v2'): Contender => APP(name, 'v2.mjs', ['none']);
const MIDDLEWARE_HTTP = (backend: Backend): Contender => APP(`middleware() on node:http (${backend})`, 'v1-http.mjs', [flag(backend)]);
/** The middleware with spans off (`tracerProvider: null`): beside the default row, what making spans costs with no tracer provider registered. */
const MIDDLEWARE_HTTP_NO_SPANS = APP('middleware() on node:http (prom-client, tracerProvider: null)', 'v1-http.mjs', ['prom-nospans']);
const MIDDLEWARE_EXPRESS = (backend: Backend): Contender => APP(`middleware() in express (${backend})`, 'v1-express.mjs', [flag(backend)]);
const NODE_HANDLER = (backend: Backend): Contender => APP(`nodeHandler (${backend})`, 'v2.mjs', [flag(backend), 'nodeHandler']);
const HANDLER = (backend: Backend): Contender => APP(`handler + toNodeHandler (${backend})`, 'v2.mjs', [flag(backend), 'handler']);
/** `mcp-exporter serve` as users run it (its log lines included). */
const SERVE = (backend: Backend): Contender => ({
  name: `serve (${backend})`,
  start: async () => own(await startServer(node, [CLI, 'serve', '--port', '0', '--metrics-backend', backend])),
});
/** The library hosting an SDK v1 server (startMonitoredServer), without the CLI's demo, log lines and process metrics. */
const HOSTED = (backend: Backend): Contender => ({
  name: `startMonitoredServer (${backend})`,
  start: async () => own(await startServer(node, [fileURLToPath(new URL('./servers/monitored-v1.js', import.meta.url)), flag(backend)])),
});
/** A relay (`node <args for the server's port>`) in front of a bare SDK v1 server of its own: the relay's CPU, and the server's behind it. */
async function relaying(args: (upstreamPort: number) => readonly string[]): Promise<Started> {
  const upstream = await startServer(node, [`${BASELINE}v1-http.mjs`, 'none']);
  const relay = await startServer(node, args(upstream.port));
  return {
    port: relay.port,
    cpu: () => cpuMicros(relay.child.pid ?? 0).own,
    behind: () => cpuMicros(upstream.child.pid ?? 0).own,
    stop: async () => void (await Promise.all([relay.stop(), upstream.stop()])),
  };
}
const PROXY_UPSTREAM = (backend: Backend): Contender => ({
  name: `proxy --upstream (${backend})`,
  start: () => relaying((port) => [CLI, 'proxy', '--port', '0', '--metrics-backend', backend, '--upstream', `http://127.0.0.1:${port}/mcp`]),
});
/** The floor under any relay in front of the same server: bytes passed both ways, nothing read (bench/servers/tcp-relay.ts). */
const TCP_RELAY: Contender = {
  name: 'TCP relay (bytes only, no HTTP, no monitoring)',
  start: () => relaying((port) => [fileURLToPath(new URL('./servers/tcp-relay.js', import.meta.url)), String(port)]),
};
const PROXY_STDIO = (backend: Backend): Contender => ({
  name: `proxy --stdio (${backend})`,
  start: async () => {
    const proxy = await startServer(node, [CLI, 'proxy', '--port', '0', '--metrics-backend', backend, '--stdio', `${node} ${BASELINE}v1-stdio.mjs`]);
    const pid = proxy.child.pid ?? 0;
    return { port: proxy.port, cpu: () => cpuMicros(pid).own, behind: () => cpuMicros(pid).children, stop: proxy.stop };
  },
});

// ---------------------------------------------------------------- the comparisons

type Traffic = { kind: 'calls'; shape: CallShape } | { kind: 'sessions' };

interface Comparison {
  name: string;
  title: string;
  traffic: Traffic;
  bare: Contender;
  /** Another bare server: bare against bare is the noise floor of every ratio. */
  control?: Contender;
  monitored: Contender[];
}

const each = (make: (backend: Backend) => Contender): Contender[] => BACKENDS.map(make);

const COMPARISONS: Comparison[] = [
  {
    name: 'v1-http',
    title: "SDK v1 on node:http (its README's server), 2025 sessions: tools/call",
    traffic: { kind: 'calls', shape: 'session' },
    bare: V1_HTTP(),
    control: V1_HTTP('bare SDK v1 on node:http (again)'),
    monitored: [...each(MIDDLEWARE_HTTP), MIDDLEWARE_HTTP_NO_SPANS, ...each(HOSTED), ...each(SERVE)],
  },
  {
    name: 'v1-express',
    title: "SDK v1 in express (its README's app), 2025 sessions: tools/call",
    traffic: { kind: 'calls', shape: 'session' },
    bare: V1_EXPRESS(),
    control: V1_EXPRESS('bare SDK v1 in express (again)'),
    monitored: each(MIDDLEWARE_EXPRESS),
  },
  {
    name: 'v1-sessions',
    title: 'SDK v1 on node:http: sessions opened and deleted',
    traffic: { kind: 'sessions' },
    bare: V1_HTTP(),
    control: V1_HTTP('bare SDK v1 on node:http (again)'),
    monitored: [MIDDLEWARE_HTTP('prom-client'), ...each(SERVE)],
  },
  {
    name: 'v2-2025',
    title: 'SDK v2 createMcpHandler, 2025 requests (stateless): tools/call',
    traffic: { kind: 'calls', shape: 'stateless-2025' },
    bare: V2(),
    control: V2('bare SDK v2 (again)'),
    monitored: [...each(NODE_HANDLER), ...each(HANDLER)],
  },
  {
    name: 'v2-2026',
    title: 'SDK v2 createMcpHandler, 2026-07-28 requests: tools/call',
    traffic: { kind: 'calls', shape: 'modern' },
    bare: V2(),
    control: V2('bare SDK v2 (again)'),
    monitored: [...each(NODE_HANDLER), ...each(HANDLER)],
  },
  {
    name: 'proxy-upstream',
    title: 'proxy --upstream in front of the bare SDK v1 server, 2025 sessions: tools/call',
    traffic: { kind: 'calls', shape: 'session' },
    bare: V1_HTTP(),
    monitored: [...each(PROXY_UPSTREAM), TCP_RELAY],
  },
  {
    name: 'proxy-stdio',
    title: 'proxy --stdio in front of the bare SDK v1 stdio server, 2025 sessions: tools/call',
    traffic: { kind: 'calls', shape: 'session' },
    bare: V1_HTTP(),
    monitored: each(PROXY_STDIO),
  },
];

// ---------------------------------------------------------------- measuring

/** One measured window of one server: its load, and the CPU it took. */
interface Window {
  /** Completions per second. */
  rate: number;
  /** p99 latency, ms. */
  p99: number;
  /** Server CPU per completion, µs. */
  cpuPerOp: number;
  /** CPU per completion of the server behind a proxy, µs. */
  behindPerOp?: number;
}

/** One start of one server (for the bare server, one for each server it was measured beside): its warm-up, and its windows, one a round. */
interface Sample {
  /** How long it was warmed up, ms. */
  warmedMs: number;
  /** Whether its rate had stopped rising when the measurement began. */
  warm: boolean;
  windows: Window[];
  /** The windows of the bare server started beside this one, one a round (every server but the bare one). */
  bare?: Window[];
}

/**
 * Whether a server is warm: its last 1 s slice of load ran no faster than the two before it
 * (within the machine's noise, 5%). The first seconds of a Node server under load run at about
 * half its later speed (the JIT at work), so a fixed warm-up either wastes time or measures
 * some servers cold; a server still speeding up is given more, up to the limit.
 */
function steady(rates: readonly number[]): boolean {
  if (rates.length < 3) return false;
  const [a, b, last] = rates.slice(-3) as [number, number, number];
  return last <= Math.max(a, b) * 1.05;
}

/** A server of one start: running, its sessions open, its warm-up and windows so far. */
interface Live {
  server: Started;
  run(ms: number): Promise<LoadAnswer>;
  rates: number[];
  sample: Sample;
}

async function begin(load: Load, contender: Contender, traffic: Traffic): Promise<Live> {
  const server = await contender.start();
  const run = (ms: number): Promise<LoadAnswer> =>
    load(
      traffic.kind === 'sessions'
        ? { cmd: 'churn', port: server.port, ms, concurrency: SIZES.connections }
        : { cmd: 'calls', port: server.port, ms, shape: traffic.shape, concurrency: SIZES.connections },
    );
  if (traffic.kind === 'calls' && traffic.shape === 'session') await load({ cmd: 'open', port: server.port, count: SIZES.connections });
  return { server, run, rates: [], sample: { warmedMs: 0, warm: smoke, windows: [] } };
}

/**
 * Warm-up in turns, 1 s slices: every server of the pair gets one, until each is steady (or has
 * had the most), so neither sits idle for more than a slice.
 */
async function warmUp(pair: readonly Live[]): Promise<void> {
  const slice = smoke ? SIZES.warmMs : 1000;
  const warming = (l: Live): boolean => l.sample.warmedMs < SIZES.warmMs || (!steady(l.rates) && l.sample.warmedMs < SIZES.maxWarmMs);
  while (pair.some(warming)) {
    for (const l of pair) {
      const answer = await l.run(slice);
      l.sample.warmedMs += slice;
      l.rates.push((answer.latencies.length / answer.elapsedMs) * 1000);
    }
  }
  for (const l of pair) l.sample.warm = smoke || steady(l.rates);
}

/** One window: a short unmeasured load (the core has just served the other server), then the measured one. */
async function measureWindow(l: Live): Promise<Window> {
  await l.run(SIZES.rewarmMs);
  const before = { cpu: l.server.cpu(), behind: l.server.behind?.() ?? 0 };
  const answer = await l.run(SIZES.windowMs);
  const completions = answer.latencies.length;
  return {
    rate: (completions / answer.elapsedMs) * 1000,
    p99: percentile(answer.latencies, 99),
    cpuPerOp: (l.server.cpu() - before.cpu) / completions,
    ...(l.server.behind ? { behindPerOp: (l.server.behind() - before.behind) / completions } : {}),
  };
}

/**
 * Every server of a comparison beside the bare server, `starts` times. In each start each
 * other server in turn (the order reversed every start) is started afresh with a bare server
 * of its own, the two warmed up in turns, then measured in rounds of two windows, the bare
 * server's and its own (which goes first alternates), and ended. A ratio compares the two
 * windows of a round, a second apart: the machine's slow spells (seconds to minutes on this
 * host) fall on both. Neither server is older than the other, and neither sits idle for more
 * than a window: a Node server left idle for a few seconds runs slower for a while after
 * (V8's memory reducer off or on), so measuring every server of a comparison in one
 * rotation measured them all slowed (the bare SDK v2 at 770 µs a call against 600 under
 * steady load; docs/benchmarks.md).
 */
async function measureComparison(load: Load, comparison: Comparison): Promise<Map<string, Sample[]>> {
  const others = [...(comparison.control ? [comparison.control] : []), ...comparison.monitored];
  const samples = new Map<string, Sample[]>([comparison.bare, ...others].map((c) => [c.name, []]));
  for (let start = 0; start < SIZES.starts; start++) {
    for (const contender of start % 2 === 0 ? others : [...others].reverse()) {
      const pair: Live[] = [];
      try {
        pair.push(await begin(load, comparison.bare, comparison.traffic), await begin(load, contender, comparison.traffic));
        const [bare, live] = pair as [Live, Live];
        await warmUp(pair);
        for (let round = 0; round < SIZES.rounds; round++) {
          for (const l of round % 2 === 0 ? pair : [live, bare]) l.sample.windows.push(await measureWindow(l));
        }
        live.sample.bare = bare.sample.windows;
        samples.get(comparison.bare.name)?.push(bare.sample);
        samples.get(contender.name)?.push(live.sample);
      } finally {
        await Promise.all(pair.map((l) => l.server.stop()));
      }
    }
    const bareWindows = (samples.get(comparison.bare.name) ?? []).flatMap((s) => s.windows);
    const ratios = others.map((c) => `${c.name} ${[rate, cpu].map((pick) => againstBare(samples.get(c.name) ?? [], pick).value.toFixed(3)).join(' ')}`);
    log(
      `  ${comparison.name} start ${start + 1}/${SIZES.starts}: bare ${median(bareWindows.map((w) => w.rate)).toFixed(0)}/s, ${median(bareWindows.map((w) => w.cpuPerOp)).toFixed(0)} µs a call; over bare (rate, CPU): ${ratios.join(', ')}`,
    );
  }
  return samples;
}

// ---------------------------------------------------------------- the table

interface Row {
  comparison: string;
  measure: string;
  contender: string;
  target: string;
  value: number;
  interval: [number, number];
  /** The same measure of the bare server, in its own unit. */
  bare: number;
  pass: boolean | null;
}

type Pick = (window: Window) => number | undefined;

/** One measure of every window of every start: [start][round]. */
const series = (samples: readonly Sample[], pick: Pick): number[][] => samples.map((s) => s.windows.map((w) => pick(w) ?? NaN));

/** A server's windows against the bare server's beside them, round by round, with a 95% interval: see pairedEstimate. */
const againstBare = (mine: readonly Sample[], pick: Pick): Estimate =>
  pairedEstimate(
    series(mine, pick),
    mine.map((s) => (s.bare ?? []).map((w) => pick(w) ?? NaN)),
  );

/** Two measures of the same windows (a proxy's own CPU and its server's), window by window. */
const withinWindows = (mine: readonly Sample[], pickMine: Pick, pickTheirs: Pick): Estimate => pairedEstimate(series(mine, pickMine), series(mine, pickTheirs));

const rate: Pick = (w) => w.rate;
const p99: Pick = (w) => w.p99;
const cpu: Pick = (w) => w.cpuPerOp;
const behind: Pick = (w) => w.behindPerOp;
/** The median of one measure over every window of every start. */
const overall = (samples: readonly Sample[], pick: Pick): number => median(samples.flatMap((s) => s.windows.map((w) => pick(w) ?? NaN)));

function rowsOf(comparison: Comparison, samples: Map<string, Sample[]>): Row[] {
  const bare = samples.get(comparison.bare.name) ?? [];
  const rows: Row[] = [];
  const add = (measure: string, contender: Contender, target: string, estimate: Estimate, bareValue: number, ok: ((v: number) => boolean) | null): void =>
    void rows.push({ comparison: comparison.name, measure, contender: contender.name, target, ...estimate, bare: bareValue, pass: ok ? ok(estimate.value) : null });
  const bareOf = (pick: Pick) => overall(bare, pick);
  const perSecond = comparison.traffic.kind === 'sessions' ? 'sessions opened and deleted per second' : 'tools/call per second';
  const rateTarget = comparison.traffic.kind === 'sessions' ? 0.95 : 0.97;
  const cpuTarget = comparison.traffic.kind === 'sessions' ? 1.05 : 1.03;
  for (const contender of comparison.monitored) {
    const mine = samples.get(contender.name) ?? [];
    if (contender === TCP_RELAY) {
      // Not a way in: what moving the bytes costs, for the proxies' target to be read against.
      add("relay's own CPU per call / the server's behind it", contender, '(floor)', withinWindows(mine, cpu, behind), overall(mine, behind), null);
      continue;
    }
    if (contender.name.startsWith('proxy ')) {
      add(`${perSecond}, through the proxy / direct`, contender, '(both on one core)', againstBare(mine, rate), bareOf(rate), null);
      // The target: relaying a call (no schema to check, no tool to run) costs a fraction of
      // answering it: the proxy's CPU per call against the server's behind it, measured while proxied.
      add("proxy's own CPU per call / the server's behind it", contender, '<= 0.6', withinWindows(mine, cpu, behind), overall(mine, behind), (v) => v <= 0.6);
      add("proxy's own CPU per call / the bare HTTP server's, direct", contender, '(for scale)', againstBare(mine, cpu), bareOf(cpu), null);
      continue;
    }
    add(perSecond, contender, `>= ${rateTarget}`, againstBare(mine, rate), bareOf(rate), (v) => v >= rateTarget);
    add('p99 latency', contender, '<= 1.05', againstBare(mine, p99), bareOf(p99), (v) => v <= 1.05);
    add('server CPU per operation', contender, `<= ${cpuTarget}`, againstBare(mine, cpu), bareOf(cpu), (v) => v <= cpuTarget);
  }
  if (comparison.control) {
    const control = samples.get(comparison.control.name) ?? [];
    for (const [measure, pick] of [[perSecond, rate], ['p99 latency', p99], ['server CPU per operation', cpu]] as const) {
      add(measure, comparison.control, 'noise floor', againstBare(control, pick), bareOf(pick), null);
    }
  }
  return rows;
}

function print(rows: readonly Row[]): void {
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3));
  const verdict = (pass: boolean | null) => (pass === null ? '' : smoke ? ' (smoke: no verdict)' : pass ? ' ok' : ' MISSED');
  const lines = ['| comparison | measure | server | target | ratio to bare [95%] | bare |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(`| ${r.comparison} | ${r.measure} | ${r.contender} | ${r.target} | ${fmt(r.value)} [${r.interval.map(fmt).join('–')}]${verdict(r.pass)} | ${fmt(r.bare)} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** One line for the end of a run: how many targets were met, and which were missed. */
function summary(rows: readonly Row[]): string {
  const judged = rows.filter((r) => r.pass !== null);
  if (smoke) return `summary: smoke run, ${judged.length} targets not judged`;
  const missed = judged.filter((r) => r.pass === false);
  const named = missed.map((r) => `${r.comparison} ${r.contender}: ${r.measure} ${r.value.toFixed(3)} (${r.target})`);
  return `summary: ${judged.length - missed.length} of ${judged.length} targets met${named.length > 0 ? `; missed: ${named.join('; ')}` : ''}`;
}

/** One line on the warm-ups: how long they took, and which servers were still speeding up when measured. */
function warmth(starts: Record<string, Record<string, Sample[]>>): string {
  const all = Object.values(starts).flatMap((byServer) => Object.values(byServer).flat());
  const cold = Object.entries(starts).flatMap(([comparison, byServer]) =>
    Object.entries(byServer)
      .map(([server, samples]) => [server, samples.filter((sample) => !sample.warm).length] as const)
      .filter(([, count]) => count > 0)
      .map(([server, count]) => `${comparison} ${server} ${count}`),
  );
  const warmed = all.map((sample) => sample.warmedMs / 1000);
  return `warm-up: ${Math.min(...warmed)}-${Math.max(...warmed)} s a start (median ${median(warmed)} s); ${cold.length === 0 ? 'every start measured steady' : `measured still speeding up: ${cold.join(', ')}`}`;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const only = values.only?.split(',').map((name) => name.trim());
  const unknown = only?.filter((name) => !COMPARISONS.some((c) => c.name === name)) ?? [];
  if (unknown.length > 0) fail(`--only: unknown comparison ${unknown.join(', ')}`);
  const chosen = COMPARISONS.filter((c) => !only || only.includes(c.name));
  const pinned = canPin && pin(process.pid, CORES.load);
  log(`bench: ${smoke ? 'smoke run' : 'full run'}; ${cpus().length} cores, Node ${process.version}; ${SIZES.starts} starts of each server, warm-up ${SIZES.warmMs} ms or more (until the rate is steady, ${SIZES.maxWarmMs} ms at most), then ${SIZES.rounds} rounds of a ${SIZES.windowMs} ms window of the bare server and one of the other (each after ${SIZES.rewarmMs} ms unmeasured), ${SIZES.connections} connections`);
  log(pinned ? `  load client on core ${CORES.load}, each server on core ${CORES.server} (taskset)` : '  not pinned to cores (needs 2 cores and taskset): expect more noise');
  log(`  bare servers from ${BASELINE} (the SDKs as users install them); monitored ones from ${ROOT}`);
  if (smoke) log('  a smoke run checks the bench works: its numbers are too few for the targets, so no verdict is given');
  const load = await startLoad();
  const rows: Row[] = [];
  const starts: Record<string, Record<string, Sample[]>> = {};
  for (const comparison of chosen) {
    log(`${comparison.title}`);
    const samples = await measureComparison(load, comparison);
    starts[comparison.name] = Object.fromEntries(samples);
    rows.push(...rowsOf(comparison, samples));
  }
  print(rows);
  log(warmth(starts));
  log(summary(rows));
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? '', node: process.version, pinned };
  writeFileSync(out, `${JSON.stringify({ view: 'cross-process', machine, smoke, sizes: SIZES, rows, starts }, null, 2)}\n`);
  log(`written: ${out}`);
}

process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
await main();
process.exit(0);
