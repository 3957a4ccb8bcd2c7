import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Registry } from 'prom-client';
import { afterEach } from 'vitest';
import type { Logger } from '../src/core/logger.js';
import type { ClosedConnectionInfo } from '../src/core/types.js';
import { sessionRef } from '../src/core/session-ref.js';
import { createDemoServer } from '../src/demo/demo-server.js';
import { startMonitoredServer, type MonitoredServer, type MonitoredServerOptions } from '../src/server.js';

/** A monitored demo server on a free port; close it in afterEach. */
export async function startDemo(options: Partial<MonitoredServerOptions> = {}): Promise<MonitoredServer> {
  return startMonitoredServer({ serverFactory: createDemoServer, port: 0, registry: new Registry(), ...options });
}

export interface ConnectedClient {
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** The session id, a credential: what the client sends as Mcp-Session-Id. */
  sessionId: string;
  /** The session's opaque reference: what the tracker, the admin API and the logs call it. */
  ref: string;
}

/** A real SDK client over Streamable HTTP, initialized; `headers` go on every request. */
export async function connectClient(url: string, name = 'test-client', version = '1.0.0', headers: Record<string, string> = {}): Promise<ConnectedClient> {
  const client = new Client({ name, version });
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  await client.connect(transport);
  const sessionId = transport.sessionId;
  if (sessionId === undefined) throw new Error('the server gave no session id');
  return { client, transport, sessionId, ref: sessionRef(sessionId) };
}

/** The admin routes' base URL with a path. */
export function adminUrl(server: MonitoredServer, path: string): string {
  return `${server.adminUrl}${path}`;
}

export async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.json() };
}

/** The exposition's sample lines for one metric family (name or name_suffix), in order. */
export function samples(exposition: string, name: string): string[] {
  return exposition.split('\n').filter((line) => !line.startsWith('#') && (line.startsWith(`${name}{`) || line.startsWith(`${name} `)));
}

export async function scrape(server: MonitoredServer, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(adminUrl(server, '/metrics'), { headers });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

/** POSTs raw text to the MCP endpoint with the headers a Streamable HTTP client sends. */
export async function postRaw(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body,
  });
}

/**
 * The servers and clients one test file starts, closed after each test (clients first).
 * Call once at the top of the file.
 */
export function useDemoServers() {
  const servers: MonitoredServer[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup().catch(() => {})));
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  return {
    demo: async (options: Partial<MonitoredServerOptions> = {}): Promise<MonitoredServer> => {
      const server = await startDemo(options);
      servers.push(server);
      return server;
    },
    /** A client of `target` (a server, or an MCP URL), with `headers` on every request. */
    client: async (target: MonitoredServer | string, name: string, headers: Record<string, string> = {}): Promise<ConnectedClient> => {
      const connected = await connectClient(typeof target === 'string' ? target : target.url, name, '1.0.0', headers);
      cleanups.push(() => connected.client.close());
      return connected;
    },
    /** Something else to undo after the test (a listener, a client of another kind). */
    onCleanup: (cleanup: () => Promise<unknown>): void => {
      cleanups.push(cleanup);
    },
  };
}

/** A logger that keeps every line as `level msg JSON(fields)`. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const keep =
    (level: string) =>
    (fields: object, msg: string): void => {
      lines.push(`${level} ${msg} ${JSON.stringify(fields)}`);
    };
  return { lines, logger: { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') } };
}

/** A raw Streamable HTTP session: initialize and the initialized notification, no GET stream. */
export async function rawSession(url: string, name: string): Promise<Record<string, string>> {
  const init = await postRaw(
    url,
    JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name, version: '1' } },
    }),
  );
  if (init.status !== 200) throw new Error(`initialize answered ${init.status}`);
  await init.text();
  const headers = { 'mcp-session-id': init.headers.get('mcp-session-id') ?? '', 'mcp-protocol-version': '2025-06-18' };
  const note = await postRaw(url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers);
  await note.text();
  return headers;
}


/** A legacy SSE stream opened by hand (GET /sse), with the session id its endpoint event names. */
export interface RawSseStream {
  sessionId: string;
  /** Where this session posts its messages. */
  messagesUrl: string;
  /** Reads the stream until `text` has arrived; resolves with everything read so far. */
  until(text: string): Promise<string>;
  close(): void;
}

export async function openSseStream(sseUrl: string, headers: Record<string, string> = {}): Promise<RawSseStream> {
  const controller = new AbortController();
  const res = await fetch(sseUrl, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  if (res.status !== 200 || !res.body) throw new Error(`GET /sse answered ${res.status}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const until = async (wanted: string): Promise<string> => {
    while (!text.includes(wanted)) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`the SSE stream ended before "${wanted}": ${text}`);
      text += decoder.decode(value, { stream: true });
    }
    return text;
  };
  await until('\n\n');
  const endpoint = /event: endpoint\ndata: (\S+)/.exec(text)?.[1];
  if (!endpoint) throw new Error(`no endpoint event: ${text}`);
  const messagesUrl = new URL(endpoint, sseUrl).toString();
  const sessionId = new URL(messagesUrl).searchParams.get('sessionId') ?? '';
  return { sessionId, messagesUrl, until, close: () => controller.abort() };
}

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One request over node:http, for what fetch will not send: a Host header, a Content-Length
 * that is not the body's, or a chunked body. Write errors after the server answered (it may close the
 * socket on a refused body) are not failures.
 */
export function rawRequest(url: string, method: string, headers: Record<string, string>, chunks: readonly string[]): Promise<RawAnswer> {
  return new Promise<RawAnswer>((resolve, reject) => {
    let answered = false;
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

/** POSTs an MCP message with the headers a client sends plus `headers`, over node:http (so a Host header is sent as given). */
export function postMessage(url: string, body: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return rawRequest(url, 'POST', { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, [body]);
}

/** Keeps every connection close a monitor hears, in order; `next(n)` waits until there are n. */
export function closeWatcher() {
  const seen: ClosedConnectionInfo[] = [];
  let wake: (() => void) | undefined;
  return {
    monitor: {
      onConnectionClosed: (_id: string, _ms: number, info: ClosedConnectionInfo) => {
        seen.push(info);
        wake?.();
      },
    },
    seen,
    /** The n-th close (from 1), once it has come. */
    async nth(n: number): Promise<ClosedConnectionInfo> {
      while (seen.length < n) await new Promise<void>((resolve) => (wake = resolve));
      return seen[n - 1] as ClosedConnectionInfo;
    },
    /** The first `count` closes, once they have come. */
    async next(count: number): Promise<ClosedConnectionInfo[]> {
      await this.nth(count);
      return seen.slice(0, count);
    },
  };
}

/**
 * Every sample of an exposition as `name{sorted labels}` -> value, otel_scope_* labels left
 * out, so both metrics backends' expositions compare series by series; `keep` picks families.
 */
export function seriesOf(exposition: string, keep: (name: string) => boolean = () => true): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparsable sample: ${line}`);
    const [, name = '', labelText = '', value = ''] = match;
    if (!keep(name)) continue;
    const labels = [...labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, key = '', val = '']) => [key, val] as const)
      .filter(([key]) => !key.startsWith('otel_scope_'))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, val]) => `${key}="${val}"`);
    out.set(`${name}{${labels.join(',')}}`, value);
  }
  return out;
}

/** Counts the writes a server's connections make to their sockets from now on (each is a system call). */
export function countWrites(server: Server): () => number {
  let writes = 0;
  server.on('connection', (socket: Socket) => {
    const counted = socket as Socket & { _write: (...args: unknown[]) => unknown; _writev: (...args: unknown[]) => unknown };
    for (const name of ['_write', '_writev'] as const) {
      const original = counted[name].bind(socket);
      counted[name] = (...args: unknown[]) => {
        writes++;
        return original(...args);
      };
    }
  });
  return () => writes;
}
