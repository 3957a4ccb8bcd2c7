/**
 * `npm run bench:same-process`: the monitored server against the bare MCP SDK server, on this machine,
 * in one run. Prints a table (and writes it as JSON) of the measures and their targets.
 * It runs the compiled code (`npm run prebench` builds it), as users run it.
 * `npm run bench:same-process -- --help` lists the options. (`npm run bench` is the cross-process view: bench/run.ts.)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchArgs, failWith, positiveWhole } from './cli-args.js';
import type { LoadAnswer, LoadCommand } from './load-worker.js';
import { canPin, CORES, pin } from './process-tools.js';
import type { ServerKind } from './server.js';
import { bootstrap, percentile, type Estimate } from './stats.js';
import { stormScaling, trackerHeapPerSession, type Backend } from './tracker-storm.js';

const USAGE = `usage: npm run bench:same-process -- [--smoke] [--out FILE] [--rounds N] [--run-ms MS] [--responses sse|json] [--cpu-prof DIR]`;
const HELP = `Measures this project's monitored server (prom-client and OpenTelemetry backends)
against the bare MCP SDK server, every server in one process, and prints the table.

${USAGE}

  --smoke              a small run that checks the benchmark works (seconds)
  --out FILE           where the table goes as JSON (default bench-results.json)
  --rounds N           alternated rounds, each server once per round (default 500)
  --run-ms MS          length of one server's run in a round (default 100)
  --responses sse|json how POSTs are answered (default sse, the SDK's default)
  --cpu-prof DIR       the server process writes a CPU profile into DIR
  --help               this text
`;

const fail = failWith(USAGE);
const values = benchArgs(
  () =>
    parseArgs({
      options: {
        smoke: { type: 'boolean' },
        out: { type: 'string' },
        rounds: { type: 'string' },
        'run-ms': { type: 'string' },
        responses: { type: 'string', default: 'sse' },
        'cpu-prof': { type: 'string' },
        help: { type: 'boolean' },
      },
    }),
  USAGE,
  HELP,
);
const smoke = values.smoke === true;
const out = values.out ?? 'bench-results.json';

function positiveInteger(name: string, text: string | undefined): number | undefined {
  return text === undefined ? undefined : positiveWhole(fail, name, text);
}
if (values.responses !== 'sse' && values.responses !== 'json') fail(`--responses must be sse or json, got ${JSON.stringify(values.responses)}`);
const responses = values.responses;
/** Where the server process writes a CPU profile of the whole run (open it in Chrome DevTools). */
const cpuProfDir = values['cpu-prof'];

const SIZES = smoke
  ? { rounds: 4, runMs: 100, warmMs: 300, concurrency: 4, levels: [10, 50, 100], storm: [100, 1000], scrapes: 5, warmScrapes: 20 }
  : { rounds: 500, runMs: 100, warmMs: 10_000, concurrency: 16, levels: [10, 1000, 10000], storm: [1000, 10000], scrapes: 40, warmScrapes: 500 };
SIZES.rounds = positiveInteger('rounds', values.rounds) ?? SIZES.rounds;
SIZES.runMs = positiveInteger('run-ms', values['run-ms']) ?? SIZES.runMs;

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Sends one IPC command and resolves with the next message the process sends back. */
function ask<T>(child: ChildProcess, command: object): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (message: T) => resolve(message));
    child.send(command);
  });
}

/** Every process the bench started, ended when it exits however it exits. */
const started: ChildProcess[] = [];

/** The process hosting every server under test; resolves with their ports. */
async function startServers(): Promise<{ process: ChildProcess; ports: Record<ServerKind, number> }> {
  const child = fork(fileURLToPath(new URL('./server.js', import.meta.url)), [responses], {
    execArgv: ['--expose-gc', ...(cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  started.push(child);
  const ports = await new Promise<Record<ServerKind, number>>((resolve, reject) => {
    child.once('message', (message: { ports: Record<ServerKind, number> }) => resolve(message.ports));
    child.once('exit', (code) => reject(new Error(`the server process exited with ${code}`)));
  });
  pin(child.pid ?? 0, CORES.server);
  return { process: child, ports };
}

/** A load command for one server: the port is the server's. */
type Order = LoadCommand extends infer C ? (C extends { port: number } ? Omit<C, 'port'> : never) : never;
type Load = (kind: ServerKind, order: Order) => Promise<LoadAnswer>;

/** The load client, in its own process on its own core. */
async function startLoad(ports: Record<ServerKind, number>): Promise<Load> {
  const worker = fork(fileURLToPath(new URL('./load-worker.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  started.push(worker);
  await new Promise((resolve) => worker.once('message', resolve));
  pin(worker.pid ?? 0, CORES.load);
  return async (kind, order) => {
    const answer = await ask<LoadAnswer>(worker, { ...order, port: ports[kind] } as LoadCommand);
    if (answer.error !== undefined) throw new Error(`load client against ${kind}: ${answer.error}`);
    return answer;
  };
}

/** One timed run against one server. */
interface Sample {
  completions: number;
  elapsedMs: number;
  /** Every completion's latency in ms. */
  latencies: number[];
  /** CPU time the server process used during the run, in µs. */
  cpuMicros: number;
}

/** Per-round samples of each server; a round runs every server once, back to back. */
type Rounds = Map<ServerKind, Sample[]>;

/** Sums over the rounds picked (with repeats, for the bootstrap). */
function totals(samples: readonly Sample[], picks: readonly number[]) {
  let completions = 0;
  let elapsedMs = 0;
  let cpuMicros = 0;
  for (const i of picks) {
    const sample = samples[i];
    if (!sample) continue;
    completions += sample.completions;
    elapsedMs += sample.elapsedMs;
    cpuMicros += sample.cpuMicros;
  }
  return { rate: (completions / elapsedMs) * 1000, cpuPerOp: cpuMicros / completions, busy: cpuMicros / 1000 / elapsedMs };
}

/** One server's measure over the rounds picked (a round may be picked more than once). */
type RoundMeasure = (samples: readonly Sample[], picks: readonly number[]) => number;
const rate: RoundMeasure = (samples, picks) => totals(samples, picks).rate;
const cpuPerOp: RoundMeasure = (samples, picks) => totals(samples, picks).cpuPerOp;
const p99: RoundMeasure = (samples, picks) => {
  let size = 0;
  for (const i of picks) size += samples[i]?.latencies.length ?? 0;
  const all = new Float64Array(size);
  let at = 0;
  for (const i of picks) {
    const latencies = samples[i]?.latencies ?? [];
    all.set(latencies, at);
    at += latencies.length;
  }
  return percentile(all, 99);
};

/**
 * kind / bare for `measure` over every round (totals over all rounds, not a mean of
 * per-round ratios), with a 95% interval from resampling rounds.
 */
function versusBare(rounds: Rounds, kind: ServerKind, measure: RoundMeasure, resamples?: number): Estimate {
  const mine = rounds.get(kind) ?? [];
  const bare = rounds.get('bare') ?? [];
  return bootstrap(mine.length, (picks) => measure(mine, picks) / measure(bare, picks), resamples);
}

async function alternate(kinds: readonly ServerKind[], run: (kind: ServerKind) => Promise<Sample>, what: string): Promise<Rounds> {
  const rounds: Rounds = new Map(kinds.map((kind) => [kind, []]));
  const every = Math.max(1, Math.round(SIZES.rounds / 10));
  for (let round = 0; round < SIZES.rounds; round++) {
    // Alternate the order, so drift within a round hits every server alike.
    const order = round % 2 === 0 ? kinds : [...kinds].reverse();
    for (const kind of order) rounds.get(kind)?.push(await run(kind));
    if ((round + 1) % every === 0 || round + 1 === SIZES.rounds) {
      const picks = Array.from({ length: round + 1 }, (_, i) => i);
      const bare = rounds.get('bare') ?? [];
      const ratios = kinds.filter((kind) => kind !== 'bare').map((kind) => `${kind} ${(rate(rounds.get(kind) ?? [], picks) / rate(bare, picks)).toFixed(3)}`);
      log(`  ${what} ${round + 1}/${SIZES.rounds} rounds: bare ${rate(bare, picks).toFixed(0)}/s; per second, over bare: ${ratios.join(', ')}`);
    }
  }
  const busy = [...rounds.values()].map((samples) => totals(samples, samples.map((_, i) => i)).busy);
  // Near 100% means the server, not the load client, set the pace; the ratios mean little otherwise.
  log(`  ${what}: the server process was ${(Math.min(...busy) * 100).toFixed(0)}-${(Math.max(...busy) * 100).toFixed(0)}% busy during the runs`);
  return rounds;
}

interface Row {
  measure: string;
  target: string;
  unit: string;
  'prom-client': number;
  otel: number;
  /** 95% confidence intervals, for the rows that compare with the bare server. */
  interval?: Record<Backend, [number, number]>;
  /** The same comparison between two identical bare servers: the noise floor of the row. */
  control?: Estimate;
  /** The bare server's own value (per second, ms or µs), where the row compares with it. */
  bare?: number;
  pass: boolean;
  passOtel: boolean;
}

function row(measure: string, target: string, unit: string, prom: number, otel: number, ok: (v: number) => boolean): Row {
  return { measure, target, unit, 'prom-client': prom, otel, pass: ok(prom), passOtel: ok(otel) };
}

/** A row comparing each backend's server with the bare one (and the control with it too). */
function ratioRow(measure: string, target: string, ok: (v: number) => boolean, rounds: Rounds, what: RoundMeasure, resamples?: number): Row {
  const prom = versusBare(rounds, 'monitored', what, resamples);
  const otel = versusBare(rounds, 'monitored-otel', what, resamples);
  const bare = rounds.get('bare') ?? [];
  return {
    ...row(measure, target, 'ratio', prom.value, otel.value, ok),
    interval: { 'prom-client': prom.interval, otel: otel.interval },
    control: versusBare(rounds, 'bare-b', what, resamples),
    bare: what(bare, bare.map((_, i) => i)),
  };
}

async function main(): Promise<void> {
  const pinned = canPin && pin(process.pid, CORES.load);
  log(`bench: ${smoke ? 'smoke run' : 'full run'}; ${cpus().length} cores, Node ${process.version}; POSTs answered as ${responses === 'sse' ? 'SSE streams' : 'JSON'}`);
  log(pinned ? `  load client on core ${CORES.load}, servers on core ${CORES.server} (taskset)` : '  not pinned to cores (needs 2 cores and taskset): expect more noise');
  if (smoke) log('  a smoke run checks the bench works: its numbers (a heap difference of 100 sessions may even be negative) are too few for the targets, so no verdict is given');
  const servers = await startServers();
  const load = await startLoad(servers.ports);
  const cpuMicros = async () => (await ask<{ cpuMicros: number }>(servers.process, { cmd: 'cpu' })).cpuMicros;
  const heapUsed = async () => (await ask<{ heapUsed: number }>(servers.process, { cmd: 'heap' })).heapUsed;
  const measure = async (kind: ServerKind, order: Order): Promise<Sample> => {
    const before = await cpuMicros();
    const answer = await load(kind, order);
    return { completions: answer.latencies.length, elapsedMs: answer.elapsedMs, latencies: answer.latencies, cpuMicros: (await cpuMicros()) - before };
  };
  const calls = (kind: ServerKind, ms = SIZES.runMs) => measure(kind, { cmd: 'calls', ms });
  const churn = (kind: ServerKind, ms = SIZES.runMs) => measure(kind, { cmd: 'churn', ms, concurrency: SIZES.concurrency });
  const kinds: ServerKind[] = ['bare', 'monitored', 'monitored-otel', 'bare-b'];

  for (const kind of kinds) {
    // V8 takes seconds to optimize the request path; time it optimized, as a server runs.
    await load(kind, { cmd: 'open', count: SIZES.concurrency });
    const warm = await calls(kind, SIZES.warmMs);
    await churn(kind, SIZES.warmMs / 3);
    log(`  warm-up ${kind.padEnd(14)} tools/call ${((warm.completions / warm.elapsedMs) * 1000).toFixed(0)}/s over ${(SIZES.warmMs / 1000).toFixed(1)} s`);
  }
  const callRounds = await alternate(kinds, calls, 'tools/call');
  const churnRounds = await alternate(kinds, churn, 'sessions');

  // Open sessions up to each level, bare and monitored alike; the heap after GC tells
  // what each server's sessions hold, and the monitored servers are scraped at each level.
  const backends: [Backend, ServerKind][] = [
    ['prom-client', 'monitored'],
    ['otel', 'monitored-otel'],
  ];
  for (const [, kind] of backends) {
    // Scraped every few seconds for its whole life, the route runs optimized: time that.
    for (const path of ['/metrics', '/api/mcp/connections']) await load(kind, { cmd: 'gets', path, count: SIZES.warmScrapes });
  }
  const gets = async (kind: ServerKind, path: string) => (await load(kind, { cmd: 'gets', path, count: SIZES.scrapes })).latencies[0] ?? NaN;
  const growth = new Map<ServerKind, number>();
  const scrapes = new Map<Backend, number[]>([
    ['prom-client', []],
    ['otel', []],
  ]);
  let heap = await heapUsed();
  let open = 0;
  for (const level of SIZES.levels) {
    for (const kind of ['bare', 'monitored', 'monitored-otel'] as const) {
      await load(kind, { cmd: 'fill', count: level - open });
      const after = await heapUsed(); // also collects what opening sessions left behind, so scrapes time the scrape alone
      growth.set(kind, (growth.get(kind) ?? 0) + after - heap);
      heap = after;
      const backend = backends.find(([, k]) => k === kind)?.[0];
      if (backend) scrapes.get(backend)?.push(await gets(kind, '/metrics'));
    }
    open = level;
    log(`  ${level} open sessions: /metrics p50 ${scrapes.get('prom-client')?.at(-1)?.toFixed(2)} ms (prom-client), ${scrapes.get('otel')?.at(-1)?.toFixed(2)} ms (otel)`);
  }
  const listing = new Map<Backend, number>();
  for (const [backend, kind] of backends) listing.set(backend, await gets(kind, '/api/mcp/connections'));
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  log(`  heap for ${open} sessions: bare ${mib(growth.get('bare') ?? 0)} MiB, monitored ${mib(growth.get('monitored') ?? 0)} MiB, monitored-otel ${mib(growth.get('monitored-otel') ?? 0)} MiB`);
  const perSession = (kind: ServerKind) => ((growth.get(kind) ?? 0) - (growth.get('bare') ?? 0)) / open;

  const [small = 0, large = 0] = SIZES.storm;
  const storm = { prom: await stormScaling(small, large, 'prom-client', log), otel: await stormScaling(small, large, 'otel', log) };
  const low = SIZES.levels[0] ?? 0;
  const high = SIZES.levels.at(-1) ?? 0;
  const trackerHeap = { prom: await trackerHeapPerSession(high, 'prom-client'), otel: await trackerHeapPerSession(high, 'otel') };

  const scrape = (backend: Backend, i: number) => scrapes.get(backend)?.[i] ?? NaN;
  const last = SIZES.levels.length - 1;
  const rows: Row[] = [
    ratioRow('tools/call throughput, monitored / bare (alternated)', '>= 0.97', (v) => v >= 0.97, callRounds, rate),
    ratioRow('tools/call p99 latency, monitored / bare', '<= 1.05', (v) => v <= 1.05, callRounds, p99, 200),
    // On a saturated core, CPU per call decides throughput: the same target, put in CPU.
    ratioRow('server CPU per tools/call, monitored / bare', '<= 1.03 (1 / 0.97)', (v) => v <= 1 / 0.97, callRounds, cpuPerOp),
    ratioRow('sessions established and deleted per second, monitored / bare', '>= 0.95', (v) => v >= 0.95, churnRounds, rate),
    ratioRow('server CPU per session established and deleted, monitored / bare', '<= 1.05 (1 / 0.95)', (v) => v <= 1 / 0.95, churnRounds, cpuPerOp),
    ...SIZES.levels.map((level, i) =>
      row(`/metrics scrape p50 at ${level} open sessions`, i === last ? '< 5 ms' : 'flat', 'ms', scrape('prom-client', i), scrape('otel', i), (v) => i !== last || v < 5),
    ),
    row(`/metrics p50 at ${high} / at ${low} sessions`, '<= 2 (flat)', 'ratio', scrape('prom-client', last) / scrape('prom-client', 0), scrape('otel', last) / scrape('otel', 0), (v) => v <= 2),
    row(`/api/mcp/connections default page p50 at ${high} sessions`, '< 20 ms', 'ms', listing.get('prom-client') ?? NaN, listing.get('otel') ?? NaN, (v) => v < 20),
    row(`heap per open session, monitored minus bare server (${open} sessions each, after GC)`, '< 1 KiB', 'bytes', perSession('monitored'), perSession('monitored-otel'), (v) => v < 1024),
    row(`heap per open session in the tracker and monitors alone (${high} sessions, after GC)`, '< 1 KiB', 'bytes', trackerHeap.prom, trackerHeap.otel, (v) => v < 1024),
    row(`storm: ${large} vs ${small} sessions, cost per session (tracker and events)`, '<= 1.1 (10x costs <= 11x)', 'ratio', storm.prom, storm.otel, (v) => v <= 1.1),
  ];
  print(rows);
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? '', node: process.version, pinned };
  writeFileSync(out, `${JSON.stringify({ machine, smoke, responses, sizes: SIZES, rows }, null, 2)}\n`);
  log(`written: ${out}`);
  // Asked, not killed: with --cpu-prof, the profile is written as the process exits.
  const exited = new Promise((resolve) => servers.process.once('exit', resolve));
  servers.process.send({ cmd: 'exit' });
  await exited;
}

function print(rows: readonly Row[]): void {
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3));
  const range = (interval: [number, number] | undefined) => (interval ? ` [${interval.map((v) => v.toFixed(3)).join('–')}]` : '');
  const verdict = (pass: boolean) => (smoke ? '(smoke: no verdict)' : pass ? 'ok' : 'MISSED');
  const cell = (r: Row, backend: Backend, pass: boolean) => `${fmt(r[backend])} ${r.unit}${range(r.interval?.[backend])} ${verdict(pass)}`;
  const control = (r: Row) => (r.control ? `${fmt(r.control.value)}${range(r.control.interval)}` : '');
  const lines = [
    '| measure | target | prom-client | otel | control: bare / bare |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.measure} | ${r.target} | ${cell(r, 'prom-client', r.pass)} | ${cell(r, 'otel', r.passOtel)} | ${control(r)} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

// However the bench ends (done, Ctrl-C, an error), no process it started outlives it.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
process.once('exit', () => {
  for (const child of started) child.kill();
});
await main();
process.exit(0);
