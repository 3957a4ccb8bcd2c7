import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Registry } from 'prom-client';
import { afterEach } from 'vitest';
import { createDemoServer } from '../src/demo/demo-server.js';
import { startMonitoredServer, type MonitoredServer, type MonitoredServerOptions } from '../src/server.js';

/** A monitored demo server on a free port; close it in afterEach. */
export async function startDemo(options: Partial<MonitoredServerOptions> = {}): Promise<MonitoredServer> {
  return startMonitoredServer({ serverFactory: createDemoServer, port: 0, registry: new Registry(), ...options });
}

export interface ConnectedClient {
  client: Client;
  transport: StreamableHTTPClientTransport;
  sessionId: string;
}

/** A real SDK client over Streamable HTTP, initialized; `headers` go on every request. */
export async function connectClient(url: string, name = 'test-client', version = '1.0.0', headers: Record<string, string> = {}): Promise<ConnectedClient> {
  const client = new Client({ name, version });
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  await client.connect(transport);
  const sessionId = transport.sessionId;
  if (sessionId === undefined) throw new Error('the server gave no session id');
  return { client, transport, sessionId };
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
