/**
 * `npm run bench:soak`: the CLI's `serve`, as users run it, under hours' worth of session
 * life in minutes. Phases:
 * 1. held: 1,000 real MCP SDK v1 clients (70% Streamable HTTP with their GET stream, 30%
 *    legacy SSE) hold their sessions and call a tool once a second each, for 3 minutes,
 *    answering the server's pings as SDK clients do; then each ends its session;
 * 2. churn: 10,000 sessions that end every way a session ends: DELETE, a dropped socket
 *    (SSE stream, GET stream), a killed client process, silence with no stream, silence
 *    while holding a stream open (never answering a ping);
 * 3. drain: waits until the server holds no session.
 * Every count the server reports (sessions opened and closed by transport and reason,
 * tools/call operations, refusals) is checked against what the clients did, exactly; the
 * server's heap after a full GC, its resident set and its open file descriptors are
 * reported at each phase. Exit code 1 if any check fails.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { benchArgs, failWith } from './cli-args.js';
import { agent, callBody, closeSession, openSession, pool, post } from './http-client.js';
import { canPin, CORES, pin } from './process-tools.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const HEAP_PRELOAD = fileURLToPath(new URL('./soak-heap.js', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

const USAGE = 'usage: npm run bench:soak -- [--smoke] [--held N] [--hold-seconds S] [--churn N] [--out FILE]';
const HELP = `Runs mcp-exporter serve (a process of its own) under held and churned MCP sessions
and checks every count it reports against what the clients did; reports its heap after GC.

${USAGE}

  --smoke             a small run that checks the soak works (seconds): 20 held for 3 s, 200 churned
  --held N            sessions held by real SDK clients (default 1000)
  --hold-seconds S    how long they hold and call, one call a second each (default 180)
  --churn N           sessions opened and ended every way, after the held ones (default 10000)
  --out FILE          where the results go as JSON (default soak-results.json)
  --help              this text

The server runs with --session-idle-timeout 15 (3 with --smoke) so silent sessions end
within the run, and the default ping settings (--ping-interval 60 --ping-timeout 10; 1 and
1 with --smoke).
`;

type Kind = 'delete' | 'sse-drop' | 'get-drop' | 'silent' | 'silent-sse' | 'silent-get' | 'killed';
/** Of every ten churned sessions: four DELETE, one of each other way. */
const PATTERN: readonly Kind[] = ['delete', 'delete', 'delete', 'delete', 'sse-drop', 'get-drop', 'silent', 'silent-sse', 'silent-get', 'killed'];
const INIT = (name: string): string =>
  JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name, version: '1' } } });
const INITIALIZED = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });

// ---------------------------------------------------------------- raw streams

interface OpenStream {
  req: ClientRequest;
  res: IncomingMessage;
}

/** A GET that answers with a stream; resolves once its head has come (and, for /sse, the endpoint event). */
function openStream(port: number, path: string, headers: Record<string, string>, untilEndpoint: boolean): Promise<OpenStream & { endpoint: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      res.on('error', () => {});
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${path} answered ${res.statusCode}`));
        return;
      }
      if (!untilEndpoint) {
        res.pause();
        resolve({ req, res, endpoint: '' });
        return;
      }
      let text = '';
      const onData = (chunk: Buffer): void => {
        text += chunk.toString('utf8');
        const endpoint = /event: endpoint\ndata: (\S+)/.exec(text)?.[1];
        if (endpoint === undefined) return;
        res.off('data', onData);
        // Reads nothing more: a client that no longer reads.
        res.pause();
        resolve({ req, res, endpoint });
      };
      res.on('data', onData);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Ends a stream from the client's side without a word (the socket is destroyed). */
function drop(stream: OpenStream): void {
  stream.req.on('error', () => {});
  stream.req.destroy();
}

async function sseSession(port: number, name: string, call: boolean): Promise<OpenStream> {
  const stream = await openStream(port, '/sse', {}, true);
  stream.req.on('error', () => {});
  for (const body of [INIT(name), INITIALIZED, ...(call ? [callBody(1)] : [])]) {
    const answer = await post(port, stream.endpoint, body);
    if (answer.status !== 202) throw new Error(`POST ${body.slice(0, 40)} to /messages answered ${answer.status}`);
  }
  return stream;
}

async function getStream(port: number, headers: Record<string, string>): Promise<OpenStream> {
  const stream = await openStream(port, '/mcp', headers, false);
  stream.req.on('error', () => {});
  return stream;
}

// ---------------------------------------------------------------- killed clients

/** A client process: opens `sse` SSE sessions and `get` Streamable HTTP sessions with GET streams, says ready, waits to be killed. */
async function killedClient(port: number, sse: number, get: number): Promise<void> {
  const held: OpenStream[] = [];
  for (let i = 0; i < sse; i++) held.push(await sseSession(port, 'killed', false));
  for (let i = 0; i < get; i++) held.push(await getStream(port, await openSession(port)));
  process.send?.('ready');
  setInterval(() => void held.length, 60_000);
}

if (process.argv[2] === '--killed-client') {
  await killedClient(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5]));
} else {
  await main();
}

// ---------------------------------------------------------------- the server

interface Server {
  child: ChildProcess;
  port: number;
  admin: string;
  heap(): Promise<{ heapUsed: number; rss: number; fds: number }>;
  metrics(): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

function startServer(args: string[]): Promise<Server> {
  const child = fork(CLI, ['serve', '--port', '0', '--admin-port', '0', ...args], {
    execArgv: ['--expose-gc', '--import', HEAP_PRELOAD],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let buffer = '';
    let found = false;
    child.once('exit', (code) => found || reject(new Error(`serve exited with ${code} before it listened`)));
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      if (found) return;
      buffer += chunk;
      const match = /"mcp":"http:\/\/[^"]*:(\d+)\/mcp","admin":"([^"]+)"/.exec(buffer);
      if (!match) return;
      found = true;
      if (canPin) pin(child.pid ?? 0, CORES.server);
      const admin = match[2] as string;
      resolve({
        child,
        port: Number(match[1]),
        admin,
        heap: () =>
          new Promise((done) => {
            child.once('message', (message) => done(message as { heapUsed: number; rss: number; fds: number }));
            child.send('heap');
          }),
        metrics: async () => parseExposition(await (await fetch(`${admin}/metrics`)).text()),
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

/** Every sample of an exposition, by its full series name. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** The sum of every series of `name` whose labels include each of `labels`. */
function sum(samples: Map<string, number>, name: string, labels: readonly string[] = []): number {
  let total = 0;
  for (const [series, value] of samples) {
    if (series !== name && !series.startsWith(`${name}{`)) continue;
    if (labels.every((label) => series.includes(label))) total += value;
  }
  return total;
}

// ---------------------------------------------------------------- the run

interface Check {
  what: string;
  expected: number;
  got: number;
}

async function main(): Promise<void> {
  const USAGE_FAIL = failWith(USAGE);
  const values = benchArgs(
    () =>
      parseArgs({
        options: {
          smoke: { type: 'boolean' },
          held: { type: 'string' },
          'hold-seconds': { type: 'string' },
          churn: { type: 'string' },
          out: { type: 'string' },
          help: { type: 'boolean' },
        },
      }),
    USAGE,
    HELP,
  );
  const whole = (name: string, text: string | undefined, fallback: number, min: number): number => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) USAGE_FAIL(`--${name} must be a whole number of at least ${min}, got ${JSON.stringify(text)}`);
    return value;
  };
  const smoke = values.smoke === true;
  const held = whole('held', values.held, smoke ? 20 : 1000, 1);
  const holdSeconds = whole('hold-seconds', values['hold-seconds'], smoke ? 3 : 180, 1);
  const churn = whole('churn', values.churn, smoke ? 200 : 10_000, 10);
  const out = values.out ?? 'soak-results.json';
  const idle = smoke ? 3 : 15;
  const ping = smoke ? ['--ping-interval', '1', '--ping-timeout', '1'] : [];
  if (canPin) pin(process.pid, CORES.load);

  const began = performance.now();
  const elapsed = (): string => `[${((performance.now() - began) / 1000).toFixed(0).padStart(4)}s]`;
  const say = (line: string): void => void process.stderr.write(`${elapsed()} ${line}\n`);
  const server = await startServer(['--session-idle-timeout', String(idle), ...ping, '--log-level', 'info']);
  // The server logs every session; the soak reads none of it past the start.
  server.child.stdout?.resume();
  const port = server.port;
  const expected = { total: new Map<string, number>(), closed: new Map<string, number>(), calls: 0 };
  const expect = (transport: 'streamable_http' | 'sse', reason: string): void => {
    expected.total.set(transport, (expected.total.get(transport) ?? 0) + 1);
    expected.closed.set(`${transport}/${reason}`, (expected.closed.get(`${transport}/${reason}`) ?? 0) + 1);
  };
  const active = async (): Promise<number> => sum(await server.metrics(), 'mcp_server_sessions_active');
  const heaps: Record<string, { heapUsed: number; rss: number; fds: number }> = {};
  /** The server's heap after GC once the load client's idle keep-alive sockets are closed and its descriptors stop changing. */
  const settled = async (): Promise<{ heapUsed: number; rss: number; fds: number }> => {
    agent.destroy();
    let last = await server.heap();
    for (let i = 0; i < 40; i++) {
      await sleep(250);
      const now = await server.heap();
      if (now.fds === last.fds) return now;
      last = now;
    }
    return last;
  };

  // Warm-up: 200 sessions opened, called and deleted, so what is compiled or made once is not counted below.
  await pool(200, 20, async () => {
    const headers = await openSession(port);
    await post(port, '/mcp', callBody(1), headers);
    await closeSession(port, headers);
    expect('streamable_http', 'client_delete');
    expected.calls += 1;
  });
  // The admin connection the soak reads metrics over is open in every measurement, this one too.
  await active();
  heaps.start = await settled();
  say(`serve on port ${port}: heap after GC ${mib(heaps.start.heapUsed)}, ${heaps.start.fds} fds`);

  // ---- held
  const url = `http://127.0.0.1:${port}`;
  let pings = 0;
  let closing = false;
  let calls = 0;
  let failed = 0;
  const clients: { client: Client; transport: Transport; streamable: boolean }[] = [];
  await pool(held, 50, async (i) => {
    const streamable = i % 10 < 7;
    const transport: Transport = streamable ? new StreamableHTTPClientTransport(new URL(`${url}/mcp`)) : new SSEClientTransport(new URL(`${url}/sse`));
    const client = new Client({ name: streamable ? 'held-streamable' : 'held-sse', version: '1' });
    await client.connect(transport);
    const inner = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if ((message as { method?: string }).method === 'ping') {
        // A ping that arrives as the client ends its session would be answered after the
        // DELETE, and rightly refused as an unknown session: a client that is leaving ignores it.
        if (closing) return;
        pings += 1;
      }
      inner?.(message, extra);
    };
    clients.push({ client, transport, streamable });
    expect(streamable ? 'streamable_http' : 'sse', 'client_delete');
  });
  say(`held: ${held} sessions open (${clients.filter((c) => c.streamable).length} Streamable HTTP, ${clients.filter((c) => !c.streamable).length} SSE)`);
  const progress = setInterval(() => {
    void active().then((n) => say(`held: ${n} sessions active on the server | calls ${calls} ok, ${failed} failed | pings answered ${pings}`));
  }, 5000);
  const end = performance.now() + holdSeconds * 1000;
  await Promise.all(
    clients.map(async ({ client }, i) => {
      // Spread over the first second, then one call a second each.
      await sleep((i * 1000) / clients.length);
      while (performance.now() < end) {
        const started = performance.now();
        try {
          await client.callTool({ name: 'echo', arguments: { text: 'soak' } });
          calls += 1;
        } catch {
          failed += 1;
        }
        await sleep(Math.max(0, 1000 - (performance.now() - started)));
      }
    }),
  );
  clearInterval(progress);
  expected.calls += calls + failed;
  const activeHeld = await active();
  heaps.held = await server.heap();
  say(`held: ${activeHeld} active at the end | calls ${calls} ok, ${failed} failed | pings answered ${pings} | heap after GC ${mib(heaps.held.heapUsed)}`);
  closing = true;
  await pool(clients.length, 50, async (i) => {
    const { client, transport, streamable } = clients[i] as (typeof clients)[number];
    if (streamable) await (transport as StreamableHTTPClientTransport).terminateSession();
    await client.close();
  });
  await until(async () => (await active()) === 0, 30_000, 'the held sessions to close');
  heaps.afterHeld = await settled();
  say(`held: all closed | heap after GC ${mib(heaps.afterHeld.heapUsed)}, ${heaps.afterHeld.fds} fds`);

  // ---- churn
  const kinds = Array.from({ length: churn }, (_, i) => PATTERN[i % PATTERN.length] as Kind);
  const killedCount = kinds.filter((kind) => kind === 'killed').length;
  const children: ChildProcess[] = [];
  const silentStreams: OpenStream[] = [];
  let churned = 0;
  const churnProgress = setInterval(() => say(`churn: ${churned} of ${churn} sessions opened`), 5000);
  // Killed clients: processes of 50 sessions each (half SSE, half with a GET stream), killed with SIGKILL once they hold them.
  const killing = (async () => {
    for (let left = killedCount; left > 0; ) {
      const share = Math.min(50, left);
      left -= share;
      const sse = Math.floor(share / 2);
      const child = fork(SELF, ['--killed-client', String(port), String(sse), String(share - sse)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('exit', (code) => reject(new Error(`a client process exited with ${code} before it was ready`)));
      });
      for (let i = 0; i < sse; i++) expect('sse', 'client_delete');
      // Its GET streams end with it; the sessions have no stream left, fall silent and idle out.
      for (let i = 0; i < share - sse; i++) expect('streamable_http', 'idle_timeout');
      child.removeAllListeners('exit');
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
      churned += share;
    }
  })();
  await pool(churn, 64, async (i) => {
    const kind = kinds[i] as Kind;
    switch (kind) {
      case 'delete': {
        const headers = await openSession(port);
        await post(port, '/mcp', callBody(1), headers);
        expected.calls += 1;
        await closeSession(port, headers);
        expect('streamable_http', 'client_delete');
        break;
      }
      case 'sse-drop': {
        const stream = await sseSession(port, 'churn-sse', true);
        expected.calls += 1;
        drop(stream);
        expect('sse', 'client_delete');
        break;
      }
      case 'get-drop': {
        drop(await getStream(port, await openSession(port)));
        expect('streamable_http', 'idle_timeout');
        break;
      }
      case 'silent':
        await openSession(port);
        expect('streamable_http', 'idle_timeout');
        break;
      case 'silent-sse':
        silentStreams.push(await sseSession(port, 'churn-silent', false));
        expect('sse', 'ping_timeout');
        break;
      case 'silent-get':
        silentStreams.push(await getStream(port, await openSession(port)));
        expect('streamable_http', 'ping_timeout');
        break;
      case 'killed':
        return;
    }
    churned += 1;
  });
  await killing;
  clearInterval(churnProgress);
  say(`churn: ${churn} sessions opened; waiting for the silent ones to idle out (${idle} s) and the mute ones to miss their ping`);
  const draining = setInterval(() => void active().then((n) => say(`drain: ${n} sessions active`)), 5000);
  await until(async () => (await active()) === 0, 300_000, 'every churned session to end');
  clearInterval(draining);
  for (const stream of silentStreams) drop(stream);
  heaps.end = await settled();

  // ---- checks
  const samples = await server.metrics();
  const checks: Check[] = [];
  const check = (what: string, expectedValue: number, got: number): void => void checks.push({ what, expected: expectedValue, got });
  for (const transport of ['streamable_http', 'sse']) {
    check(`sessions opened, ${transport}`, expected.total.get(transport) ?? 0, sum(samples, 'mcp_server_sessions_total', [`transport="${transport}"`]));
    for (const reason of ['client_delete', 'idle_timeout', 'ping_timeout', 'server_shutdown', 'transport_error']) {
      check(
        `sessions closed, ${transport}, ${reason}`,
        expected.closed.get(`${transport}/${reason}`) ?? 0,
        sum(samples, 'mcp_server_sessions_closed_total', [`transport="${transport}"`, `reason="${reason}"`]),
      );
    }
  }
  check('sessions active', 0, sum(samples, 'mcp_server_sessions_active'));
  check('held sessions active at the end of the hold', held, activeHeld);
  check('held calls that failed', 0, failed);
  check('tools/call operations', expected.calls, sum(samples, 'mcp_server_operation_duration_seconds_count', ['mcp_method_name="tools/call"']));
  for (const [series, value] of samples) if (series.startsWith('mcp_server_requests_rejected_total{') && value > 0) check(`requests refused, ${series.slice(35, -1)}`, 0, value);
  check('requests refused', 0, sum(samples, 'mcp_server_requests_rejected_total'));
  check('open file descriptors, end against start', heaps.start.fds, heaps.end.fds);
  await server.stop();

  const perHeld = (heaps.held.heapUsed - heaps.start.heapUsed) / held;
  const growth = heaps.end.heapUsed - heaps.start.heapUsed;
  const lines = [
    `| phase | heap after GC | RSS | open fds |`,
    `|---|---|---|---|`,
    ...Object.entries(heaps).map(([phase, h]) => `| ${phase} | ${mib(h.heapUsed)} | ${mib(h.rss)} | ${h.fds} |`),
    '',
    `| check | expected | server reported | |`,
    `|---|---|---|---|`,
    ...checks.map((c) => `| ${c.what} | ${c.expected} | ${c.got} | ${c.expected === c.got ? 'ok' : 'MISMATCH'} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const mismatches = checks.filter((c) => c.expected !== c.got);
  writeFileSync(
    out,
    `${JSON.stringify({ smoke, held, holdSeconds, churn, calls, pings, heaps, heapPerHeldSessionBytes: Math.round(perHeld), heapGrowthBytes: growth, checks, seconds: Math.round((performance.now() - began) / 1000) }, null, 2)}\n`,
  );
  say(
    `soak: ${held} held for ${holdSeconds} s (${calls} calls, ${pings} pings answered), ${churn} churned; heap ${kib(perHeld)} per held session, ` +
      `${growth >= 0 ? '+' : ''}${mib(growth)} after all ${held + churn + 200} ended; ${checks.length - mismatches.length} of ${checks.length} checks exact` +
      `${mismatches.length ? `; MISMATCH: ${mismatches.map((c) => c.what).join(', ')}` : ''}; results in ${out}`,
  );
  process.exit(mismatches.length ? 1 : 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`gave up after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}
