/**
 * `npm run bench:side-by-side`: a few user apps of bench/baseline, bare or monitored, running
 * at once on the servers' core and loaded in turn, window after window, so that a slow spell of
 * the machine falls on all of them. Prints each one's CPU per operation, its ratio to the first
 * server's in the same round, and its garbage-collection pauses per operation. It is the
 * measure for a change worth a few percent on one row (docs/benchmarks.md, "Where the time
 * goes"); `perf record -p` on the printed pids profiles them under the same load.
 */
import { readFileSync, rmSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { benchArgs, failWith, positiveWhole } from './cli-args.js';
import type { GcPauses } from './gc-pauses.js';
import { canPin, CORES, cpuMicros, pin, startLoad, startServer, type Load, type Running } from './process-tools.js';
import { median } from './stats.js';

const USAGE = `usage: npm run bench:side-by-side -- [--servers FILE:BACKEND,...] [--load calls|churn|stateless-2025|modern] [--rounds N] [--window-ms MS] [--warm-ms MS]`;
const HELP = `Runs user apps of bench/baseline side by side on one core and loads them in turn, window
after window; prints each one's CPU per operation against the first one's, round by round, and
its garbage-collection pauses.

${USAGE}

  --servers LIST     apps to run, FILE:BACKEND each, the first the reference
                     (default v1-http.mjs:none,v1-http.mjs:prom); FILE is an app of
                     bench/baseline (a copy that loads another build compares two builds),
                     BACKEND none, prom, prom-nospans or otel, and the SDK v2 app takes a
                     third part, v2.mjs:prom:nodeHandler or v2.mjs:prom:handler
  --load KIND        calls: tools/call in 16 open 2025 sessions (default); churn: sessions
                     opened and deleted; stateless-2025, modern: tools/call standing alone
  --rounds N         rounds, each server one window per round, the order reversed every
                     round (default 8)
  --window-ms MS     one measured window (default 2000), after 300 ms unmeasured
  --warm-ms MS       load on each server before the rounds, in 1 s turns (default 8000)
  --help             this text
`;

const fail = failWith(USAGE);
const values = benchArgs(
  () =>
    parseArgs({
      options: {
        servers: { type: 'string', default: 'v1-http.mjs:none,v1-http.mjs:prom' },
        load: { type: 'string', default: 'calls' },
        rounds: { type: 'string', default: '8' },
        'window-ms': { type: 'string', default: '2000' },
        'warm-ms': { type: 'string', default: '8000' },
        help: { type: 'boolean' },
      },
    }),
  USAGE,
  HELP,
);

const rounds = positiveWhole(fail, 'rounds', values.rounds);
const windowMs = positiveWhole(fail, 'window-ms', values['window-ms']);
const warmMs = positiveWhole(fail, 'warm-ms', values['warm-ms']);
const LOADS = ['calls', 'churn', 'stateless-2025', 'modern'] as const;
type LoadKind = (typeof LOADS)[number];
if (!(LOADS as readonly string[]).includes(values.load)) fail(`--load must be one of ${LOADS.join(', ')}, got ${JSON.stringify(values.load)}`);
const load = values.load as LoadKind;

const BASELINE = fileURLToPath(new URL('../../bench/baseline/', import.meta.url));
const GC_PAUSES = new URL('./gc-pauses.js', import.meta.url).href;
const specs = values.servers.split(',').map((spec) => {
  const [file = '', backend = '', mode] = spec.split(':');
  // Any app of bench/baseline: a copy of one that loads another build (an A/B) is one too.
  if (!/^[\w.-]+\.mjs$/.test(file) || file === 'apps.mjs' || file.includes('stdio') || !existsSync(`${BASELINE}${file}`)) fail(`--servers: ${JSON.stringify(spec)} is not FILE:BACKEND with FILE an app of bench/baseline (v1-http.mjs, v1-express.mjs, v2.mjs)`);
  if (!['none', 'prom', 'prom-nospans', 'otel'].includes(backend)) fail(`--servers: ${JSON.stringify(spec)} has no BACKEND none, prom, prom-nospans or otel`);
  return { name: spec, args: [`${BASELINE}${file}`, backend, ...(mode === undefined ? [] : [mode])] };
});
if (specs.length < 2) fail('--servers needs two apps at least: the first is the reference');

interface Server {
  name: string;
  running: Running;
  pid: number;
  gcFile: string;
}
interface Window {
  ops: number;
  cpuPerOp: number;
  minorPerOp: number;
  majorPerOp: number;
}

/** One turn of load on a server for `ms`, by the bench's load worker (its own process, on the load's core); the operations done. */
async function loadFor(client: Load, server: Server, ms: number): Promise<number> {
  const { port } = server.running;
  const answer = await client(
    load === 'churn'
      ? { cmd: 'churn', port, ms, concurrency: 16 }
      : { cmd: 'calls', port, ms, shape: load === 'calls' ? 'session' : load, concurrency: 16 },
  );
  return answer.latencies.length;
}

/** The server's GC pauses so far (its gc-pauses module writes them on SIGUSR2). */
async function pausesOf(server: Server): Promise<GcPauses> {
  rmSync(server.gcFile, { force: true });
  process.kill(server.pid, 'SIGUSR2');
  for (let i = 0; i < 200 && !existsSync(server.gcFile); i++) await sleep(5);
  return JSON.parse(readFileSync(server.gcFile, 'utf8')) as GcPauses;
}

async function measure(client: Load, server: Server): Promise<Window> {
  await loadFor(client, server, 300);
  const cpu0 = cpuMicros(server.pid).own;
  const gc0 = await pausesOf(server);
  const ops = await loadFor(client, server, windowMs);
  const cpu1 = cpuMicros(server.pid).own;
  const gc1 = await pausesOf(server);
  return { ops, cpuPerOp: (cpu1 - cpu0) / ops, minorPerOp: ((gc1.minorMs - gc0.minorMs) * 1000) / ops, majorPerOp: ((gc1.majorMs - gc0.majorMs) * 1000) / ops };
}

if (!canPin) process.stderr.write('bench: fewer than 2 cores; the servers and the load share them\n');
pin(process.pid, CORES.load);
const client = await startLoad();
const dir = mkdtempSync(join(tmpdir(), 'mcp-exporter-side-by-side-'));
const servers: Server[] = [];
try {
  for (const [k, spec] of specs.entries()) {
    const gcFile = join(dir, `gc-${k}.json`);
    const running = await startServer(process.execPath, ['--import', GC_PAUSES, ...spec.args], { ...process.env, BENCH_GC_FILE: gcFile });
    const server: Server = { name: spec.name, running, pid: running.child.pid ?? 0, gcFile };
    servers.push(server);
    // The first session a load needs, with a hint when there is none: the SDK v2 app serves 2025 requests without sessions.
    const sessions = load === 'calls' ? client({ cmd: 'open', port: running.port, count: 16 }) : load === 'churn' ? loadFor(client, server, 100) : undefined;
    await sessions?.catch((error: unknown) => {
      throw new Error(`${spec.name} opens no 2025 session (${error instanceof Error ? error.message : String(error)}): use --load stateless-2025 or modern`);
    });
  }
  process.stderr.write(`bench: side by side on core ${CORES.server}: ${servers.map((s) => `${s.name} (pid ${s.pid})`).join(', ')}; load ${load}\n`);
  for (let turn = 0; turn < Math.ceil(warmMs / 1000); turn++) for (const server of servers) await loadFor(client, server, 1000);
  const windows: Window[][] = servers.map(() => []);
  for (let round = 0; round < rounds; round++) {
    const order = servers.map((_, k) => k);
    if (round % 2 === 1) order.reverse();
    for (const k of order) (windows[k] as Window[]).push(await measure(client, servers[k] as Server));
    const first = windows[0] as Window[];
    const line = servers.slice(1).map((s, k) => `${s.name} ${((windows[k + 1] as Window[])[round]!.cpuPerOp / first[round]!.cpuPerOp).toFixed(3)}`);
    process.stderr.write(`  round ${round + 1}/${rounds}: CPU per operation against ${servers[0]!.name}: ${line.join(', ')}\n`);
  }
  const first = windows[0] as Window[];
  process.stdout.write('| server | operations a window | CPU µs per operation | against the first, median of rounds | GC scavenge µs per operation | GC mark-compact µs per operation |\n|---|---|---|---|---|---|\n');
  for (const [k, server] of servers.entries()) {
    const mine = windows[k] as Window[];
    const ratio = median(mine.map((w, i) => w.cpuPerOp / first[i]!.cpuPerOp));
    process.stdout.write(
      `| ${server.name} | ${Math.round(median(mine.map((w) => w.ops)))} | ${median(mine.map((w) => w.cpuPerOp)).toFixed(1)} | ${ratio.toFixed(3)} | ${median(mine.map((w) => w.minorPerOp)).toFixed(1)} | ${median(mine.map((w) => w.majorPerOp)).toFixed(1)} |\n`,
    );
  }
} catch (error) {
  // A server that does not speak the load asked for (the SDK v2 app has no 2025 sessions: --load stateless-2025).
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  for (const server of servers) await server.running.stop();
  rmSync(dir, { recursive: true, force: true });
  // The load worker ends with this process (see startLoad).
  process.exit();
}
