import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createMCPClient as createMCPClientV2 } from '@ai-sdk/mcp';
import { ZodJsonSchemaAdapter } from '@tmcp/adapter-zod';
import { InMemoryInfoSessionManager } from '@tmcp/session-manager';
import { HttpTransport } from '@tmcp/transport-http';
import { createMCPClient as createMCPClientV1 } from 'ai-sdk-mcp-v1';
import { McpServer } from 'tmcp';
import { z } from 'zod';
import { DEMO_TOOLS } from '../src/demo/demo-server.js';
import { useTestPeers } from './peers.js';

/** The @ai-sdk/mcp client of either major line (1.x opens 2025 sessions, 2.x starts with server/discover). */
export type AiSdkClient = Awaited<ReturnType<typeof createMCPClientV2>> | Awaited<ReturnType<typeof createMCPClientV1>>;

/** What a scripted @ai-sdk/mcp client got: its tool names, the echo and fail results. */
export interface AiSdkTraffic {
  tools: string[];
  echo: unknown;
  fail: unknown;
}

/** One HTTP exchange as a recorder saw it: what a client sent and the status it got. */
export interface WireExchange {
  method: string;
  /** The Mcp-Session-Id the request carried, or '' for none. */
  session: string;
  /** The MCP-Protocol-Version header, or ''. */
  version: string;
  /** The JSON-RPC method of a POST (`response` for a response, `batch` for an array), or ''. */
  rpc: string;
  status: number;
  /** The Mcp-Session-Id the answer carried, or ''. */
  answeredSession: string;
  /** The answer's media type ('' when none). */
  type: string;
}

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
/** The Python peers' script (client and server, official Python SDK). */
export const PYTHON_PEER = join(FIXTURES, 'python-peer.py');
/** Where the Python SDK is installed once and kept across runs. */
export const PYTHON_VENV = fileURLToPath(new URL('../node_modules/.cache/mcp-exporter-python', import.meta.url));
/** The Python SDK version the tests are written against. */
export const PYTHON_MCP = '2.3.0';

/**
 * The peers nobody here wrote: the Vercel AI SDK's MCP client (both major lines), a tmcp
 * server, and the official Python SDK (client and server) when it can be installed. Each is
 * closed after each test, last made first. Call once at the top of the file.
 */
export function useForeignPeers() {
  const { defer, listen: listenOn } = useTestPeers();
  const listen = (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> => listenOn(createServer(handler));

  return {
    defer,
    /**
     * A connected @ai-sdk/mcp client named `name` (1: the 1.x line, 2025 sessions; 2: the 2.x
     * line, server/discover first). Errors it reports on its own (a refused GET stream, say)
     * land in `errors`.
     */
    async aiSdkClient(url: string, name: string, major: 1 | 2): Promise<{ client: AiSdkClient; errors: string[] }> {
      const errors: string[] = [];
      const config = {
        transport: { type: 'http' as const, url },
        name,
        onUncaughtError: (error: unknown) => void errors.push(error instanceof Error ? error.message : String(error)),
      };
      const client = major === 1 ? await createMCPClientV1(config) : await createMCPClientV2(config);
      defer(() => client.close());
      return { client, errors };
    },

    /**
     * A tmcp server (no official SDK in it) with the demo's tools, behind @tmcp/transport-http
     * on node:http, 127.0.0.1, a free port. `sessions()` is how many 2025 sessions it holds
     * open now (initialized and not DELETEd); `wire` every exchange it answered.
     */
    async tmcpServer(): Promise<{ url: string; sessions: () => number; opened: () => number; wire: WireExchange[] }> {
      const held = new Set<string>();
      let opened = 0;
      // Sessions, as tmcp keeps them: client info set by initialize, dropped by DELETE.
      const info = new InMemoryInfoSessionManager();
      const setClientInfo = info.setClientInfo.bind(info);
      const drop = info.delete.bind(info);
      info.setClientInfo = (id, clientInfo) => {
        if (!held.has(id)) opened += 1;
        held.add(id);
        setClientInfo(id, clientInfo);
      };
      info.delete = (id) => {
        held.delete(id);
        drop(id);
      };
      const server = new McpServer(
        { name: 'tmcp-demo', version: '1.0.0', description: 'the demo tools on tmcp' },
        { adapter: new ZodJsonSchemaAdapter(), capabilities: { tools: { listChanged: true } } },
      );
      for (const tool of DEMO_TOOLS) {
        server.tool({ name: tool.name, description: tool.description, schema: z.object(tool.shape) }, (args: Record<string, unknown>) => tool.run(args ?? {}, server.ctx.signal));
      }
      const transport = new HttpTransport(server, { path: '/mcp', sessionManager: { info } });
      const wire: WireExchange[] = [];
      const url = await listen((req, res) => void serveWeb(req, res, wire, (request) => transport.respond(request)));
      defer(() => transport.close());
      return { url: `${url}/mcp`, sessions: () => held.size, opened: () => opened, wire };
    },

    /**
     * A recording pass-through to `target` (an MCP URL): every request goes on unchanged (its
     * Host set to the target's), every answer comes back unchanged, and `wire` keeps what
     * passed. Resolves with the URL to give a client instead of `target`.
     */
    async recorder(target: string): Promise<{ url: string; wire: WireExchange[] }> {
      const wire: WireExchange[] = [];
      const to = new URL(target);
      const url = await listen((req, res) => {
        const parts: Buffer[] = [];
        req.on('data', (chunk: Buffer) => parts.push(chunk));
        req.on('end', () => {
          const body = Buffer.concat(parts);
          const headers = { ...req.headers, host: to.host };
          // Kept when sent, so a request the client gave up on before its answer shows (status 0).
          const seen = exchangeOf(req.method ?? '', req.headers, body.toString('utf8'), 0, {});
          wire.push(seen);
          const upstream = httpRequest(to, { method: req.method, headers, agent: false }, (answer) => {
            Object.assign(seen, exchangeOf(req.method ?? '', req.headers, body.toString('utf8'), answer.statusCode ?? 0, answer.headers));
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.flushHeaders();
            answer.pipe(res);
          });
          upstream.on('error', () => res.destroy());
          res.on('close', () => upstream.destroy());
          upstream.end(body);
        });
      });
      return { url: `${url}${to.pathname}`, wire };
    },

    /** Starts the Python peer's MCP server (MCPServer, streamable-http via uvicorn); resolves once it listens. */
    async pythonServer(python: string): Promise<{ url: string; sessions: () => Promise<number> }> {
      const child = spawn(python, [PYTHON_PEER, 'server'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => (stderr += chunk));
      defer(async () => {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          await once(child, 'exit');
        }
      });
      const base = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (chunk: string) => {
          out += chunk;
          const port = /"port": (\d+)/.exec(out)?.[1];
          if (port) resolve(`http://127.0.0.1:${port}`);
        });
        child.once('exit', (code) => reject(new Error(`the Python server exited with ${code}: ${stderr}`)));
      });
      return {
        url: `${base}/mcp`,
        sessions: async () => ((await (await fetch(`${base}/sessions`)).json()) as { open: number }).open,
      };
    },
  };
}

/**
 * The scripted traffic of an @ai-sdk/mcp client, as an app using it runs it: its tools (one
 * tools/list), echo called with {text}, then fail. Returns what it got.
 */
export async function aiSdkTraffic(client: AiSdkClient, text = 'hello'): Promise<AiSdkTraffic> {
  type Tools = Record<string, { execute?: (args: unknown, options: unknown) => Promise<unknown> }>;
  const tools = (await (client as { tools(): Promise<unknown> }).tools()) as Tools;
  const options = { toolCallId: 'call-1', messages: [] };
  const echo = await tools.echo?.execute?.({ text }, options);
  const fail = await tools.fail?.execute?.({}, options);
  return { tools: Object.keys(tools).sort(), echo, fail };
}

/** A node:http exchange answered by a web handler (tmcp's transport.respond), recorded into `wire`. */
async function serveWeb(req: IncomingMessage, res: ServerResponse, wire: WireExchange[], respond: (request: Request) => Promise<Response | null>): Promise<void> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  const body = Buffer.concat(parts);
  const aborted = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) aborted.abort();
  });
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
  const method = req.method ?? 'GET';
  const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, {
    method,
    headers,
    body: method === 'GET' || method === 'HEAD' ? undefined : body,
    signal: aborted.signal,
  });
  let response: Response;
  try {
    response = (await respond(request)) ?? new Response('not found', { status: 404 });
  } catch (error) {
    response = new Response(String(error), { status: 500 });
  }
  const answerHeaders: Record<string, string> = {};
  response.headers.forEach((value, name) => (answerHeaders[name] = value));
  wire.push(exchangeOf(method, req.headers, body.toString('utf8'), response.status, answerHeaders));
  res.writeHead(response.status, answerHeaders);
  if (!response.body) {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  aborted.signal.addEventListener('abort', () => void reader.cancel().catch(() => {}), { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await once(res, 'drain');
    }
    res.end();
  } catch {
    res.destroy();
  }
}

function exchangeOf(method: string, headers: IncomingMessage['headers'], body: string, status: number, answer: Record<string, unknown>): WireExchange {
  const one = (value: unknown): string => (Array.isArray(value) ? String(value[0]) : typeof value === 'string' ? value : '');
  let rpc = '';
  if (method === 'POST') {
    try {
      const message = JSON.parse(body) as unknown;
      rpc = Array.isArray(message) ? 'batch' : typeof (message as { method?: unknown }).method === 'string' ? String((message as { method: string }).method) : 'response';
    } catch {
      rpc = 'unparsable';
    }
  }
  return {
    method,
    session: one(headers['mcp-session-id']),
    version: one(headers['mcp-protocol-version']),
    rpc,
    status,
    answeredSession: one(answer['mcp-session-id']),
    type: one(answer['content-type']).split(';')[0]?.trim() ?? '',
  };
}

/** A short, stable view of a wire log: `METHOD rpc [session] -> status`, sessions shown as s1, s2... in order of appearance. */
export function wireSummary(wire: readonly WireExchange[]): string[] {
  const names = new Map<string, string>();
  const name = (id: string): string => {
    if (id === '') return 'no-session';
    if (!names.has(id)) names.set(id, `s${names.size + 1}`);
    return names.get(id) as string;
  };
  return wire.map((x) => {
    const sent = name(x.session);
    const got = x.answeredSession !== '' && x.answeredSession !== x.session ? ` (answer names ${name(x.answeredSession)})` : '';
    return `${x.method}${x.rpc ? ` ${x.rpc}` : ''} [${sent}${x.version ? ` v${x.version}` : ''}] -> ${x.status}${x.type ? ` ${x.type}` : ''}${got}`;
  });
}

/** What pythonMcp() found: the venv's python, or why the Python peers are skipped. */
export type PythonMcp = { python: string } | { skip: string };

/**
 * The official Python MCP SDK (mcp==2.3.0) in a venv under node_modules/.cache, installed
 * once (python3 -m venv, pip install with a time limit) and reused on later runs. Resolves
 * with `{ skip }` and a one-line reason when python3 or pip cannot provide it (a machine with
 * only Node and npm, no package index reachable).
 */
export function pythonMcp(timeoutMs = 240_000, venvDir = PYTHON_VENV): PythonMcp {
  const python = join(venvDir, 'bin', 'python');
  const stamp = join(venvDir, 'installed.txt');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === PYTHON_MCP) return { python };
  const host = spawnSync('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8', timeout: 10_000 });
  if (host.error || host.status !== 0) return { skip: `Python peers skipped: no python3 on this machine (${host.error?.message ?? host.stderr.trim()})` };
  const [major = 0, minor = 0] = host.stdout.trim().split('.').map(Number);
  if (major < 3 || (major === 3 && minor < 10)) return { skip: `Python peers skipped: python3 is ${host.stdout.trim()}, mcp ${PYTHON_MCP} needs 3.10 or later` };
  mkdirSync(join(venvDir, '..'), { recursive: true });
  if (!existsSync(python)) {
    const venv = spawnSync('python3', ['-m', 'venv', venvDir], { encoding: 'utf8', timeout: 60_000 });
    if (venv.status !== 0) return { skip: `Python peers skipped: python3 -m venv failed (${lastLine(venv.stderr || venv.error?.message)})` };
  }
  // No retries: an index that cannot be reached (no network, only a local mirror) fails at once instead of stalling.
  const pip = spawnSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--retries', '0', '--timeout', '20', `mcp==${PYTHON_MCP}`], {
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (pip.error) return { skip: `Python peers skipped: pip install mcp==${PYTHON_MCP} did not finish (${pip.error.message})` };
  if (pip.status !== 0) return { skip: `Python peers skipped: pip install mcp==${PYTHON_MCP} failed (${lastLine(pip.stderr)})` };
  writeFileSync(stamp, `${PYTHON_MCP}\n`);
  return { python };
}

const lastLine = (text: string | undefined): string =>
  (text ?? '')
    .trim()
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('WARNING'))
    .pop() ?? 'no output';

/** Runs the Python peer's client against `url` (mode legacy or auto): resolves with what it printed, parsed. */
export async function runPythonClient(python: string, url: string, mode: 'legacy' | 'auto', name: string): Promise<PythonClientRun> {
  const child = spawn(python, [PYTHON_PEER, 'client', url, mode, name], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the Python client exited with ${code}: ${err.trim()}`);
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as PythonClientRun;
}

/** What the Python client printed. */
export interface PythonClientRun {
  protocolVersion: string;
  tools: string[];
  echo: string;
  failIsError: boolean;
}
