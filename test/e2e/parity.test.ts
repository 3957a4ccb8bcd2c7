/**
 * Parity: one scripted client traffic, driven against every way in, each in front of a server
 * with the demo's tools (stateful 2025 sessions beside the 2026-07-28 era), and every way in
 * compared to ONE table of what that traffic sent. The promise under test: every way in reports
 * the same numbers for the same traffic (docs/wire-monitor.md).
 *
 * The clients, one after another (each has closed, and its closes have been heard, before the
 * next starts), and what they put on the wire (sniffed):
 * - "v1", the SDK v1 client: POST initialize (requests 2025-11-25, which every server here
 *   answers), POST notifications/initialized (202), a standalone GET with the session id,
 *   tools/list, tools/call echo, tools/call fail (a result with isError), tools/call of a tool
 *   no server has, DELETE.
 * - "v2-legacy", the SDK v2 client in mode 'legacy': the same, on the wire as v1.
 * - "v2-auto", mode 'auto': every server here answers its `server/discover` probe, so it speaks
 *   2026-07-28: server/discover, tools/list, the three calls; no session, nothing to DELETE.
 * - "v2-pinned", pinned to 2026-07-28: as v2-auto, then `subscriptions/listen` (an SSE stream)
 *   closed again (a notifications/cancelled POST, 202).
 * - "ai-sdk-1", the Vercel AI SDK's MCP client 1.x (2025 sessions): a GET without a session id
 *   first (answered 400: no session), then initialize, initialized (202), a GET with the
 *   session id (kept open, aborted at close), tools/list, the echo and fail calls, DELETE.
 * - "ai-sdk-2", @ai-sdk/mcp 2.x: server/discover, tools/list, the echo and fail calls, as
 *   2026-07-28 requests (no GET, no session).
 *
 * The one thing the servers do not agree on is not the way in's: a tools/call of an unknown
 * tool in a 2025 session is answered by the SDK v1 McpServer with a result with isError (its
 * text "MCP error -32602: Tool nope not found"), by the SDK v2 McpServer with the JSON-RPC
 * error -32602. So each way in says which SDK serves its 2025 sessions; that picks one cell of
 * the table. In the 2026-07-28 era every server here is the SDK v2's: -32602.
 */
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createMCPClient as createAiSdk2Client } from '@ai-sdk/mcp';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { createMCPClient as createAiSdk1Client } from 'ai-sdk-mcp-v1';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { demoServerFactory } from '../../src/demo/demo-server.js';
import { createDemoModernHandler, createDemoServerV2 } from '../../src/demo/demo-server-v2.js';
import { McpMonitor } from '../../src/monitor.js';
import { startMonitoredServer } from '../../src/server.js';
import { useCliProcesses, type CliProcess } from '../cli-process.js';
import { createBothErasApp } from '../fixtures/both-eras-express.js';
import { createBothErasHandler } from '../fixtures/both-eras-fetch.js';
import { closeWatcher, seriesOf } from '../helpers.js';
import { useTestPeers } from '../peers.js';

const V2025 = '2025-11-25';
const V2026 = '2026-07-28';
const { start } = useCliProcesses();
const { defer, listen } = useTestPeers();

// ---------------------------------------------------------------------------------------------
// The expected table, written once: what each client's script sends, series by series.

/** Which SDK's McpServer serves a way in's 2025 sessions: it decides how an unknown tool is answered. */
type Sdk2025 = 'sdk-v1' | 'sdk-v2';
const UNKNOWN_TOOL_2025: Record<Sdk2025, string> = { 'sdk-v1': 'tool_error', 'sdk-v2': '-32602' };

const CLIENTS = ['v1', 'v2-legacy', 'v2-auto', 'v2-pinned', 'ai-sdk-1', 'ai-sdk-2'] as const;
type ClientName = (typeof CLIENTS)[number];

const op = (method: string, tool: string, errorType: string, version: string): string =>
  `mcp_server_operation_duration_seconds_count{error_type="${errorType}",gen_ai_tool_name="${tool}",mcp_method_name="${method}",mcp_protocol_version="${version}"}`;
const requests = (client: ClientName, version: string): string => `mcp_server_client_requests_total{client_name="${client}",mcp_protocol_version="${version}"}`;
const sessionOpened = (client: ClientName): string => `mcp_server_sessions_total{client_name="${client}",transport="streamable_http"}`;
const sessionClosed = (reason: string): string => `mcp_server_sessions_closed_total{reason="${reason}",transport="streamable_http"}`;
const subscriptionOpened = (client: ClientName): string => `mcp_server_subscriptions_total{client_name="${client}"}`;
const subscriptionClosed = (reason: string): string => `mcp_server_subscription_duration_seconds_count{reason="${reason}"}`;
const rejected = (reason: string): string => `mcp_server_requests_rejected_total{reason="${reason}"}`;

/** What one client's script adds, series by series; `unknownTool2025` is the one server-dependent cell. */
function contribution(client: ClientName, unknownTool2025: string): [string, number][] {
  switch (client) {
    case 'v1':
    case 'v2-legacy':
      // A 2025 session: 5 requests (initialize, tools/list, 3 calls); the initialized
      // notification (202) and the GET stream are no operation; DELETE ends it.
      return [
        [op('initialize', '', '', V2025), 1],
        [op('tools/list', '', '', V2025), 1],
        [op('tools/call', 'echo', '', V2025), 1],
        [op('tools/call', 'fail', 'tool_error', V2025), 1],
        [op('tools/call', 'other', unknownTool2025, V2025), 1],
        [requests(client, V2025), 5],
        [sessionOpened(client), 1],
        [sessionClosed('client_delete'), 1],
      ];
    case 'v2-auto':
    case 'v2-pinned':
      return [
        [op('server/discover', '', '', V2026), 1],
        [op('tools/list', '', '', V2026), 1],
        [op('tools/call', 'echo', '', V2026), 1],
        [op('tools/call', 'fail', 'tool_error', V2026), 1],
        [op('tools/call', 'other', '-32602', V2026), 1],
        ...(client === 'v2-pinned'
          ? ([
              // The listen stream: a subscription while open, closed by the client; it counts as a
              // client request too (so 6), but it is no operation.
              [requests(client, V2026), 6],
              [subscriptionOpened(client), 1],
              [subscriptionClosed('client_delete'), 1],
            ] as [string, number][])
          : ([[requests(client, V2026), 5]] as [string, number][])),
      ];
    case 'ai-sdk-1':
      // The GET it sends before initialize has no session id: 400, missing_session.
      return [
        [rejected('missing_session'), 1],
        [op('initialize', '', '', V2025), 1],
        [op('tools/list', '', '', V2025), 1],
        [op('tools/call', 'echo', '', V2025), 1],
        [op('tools/call', 'fail', 'tool_error', V2025), 1],
        [requests(client, V2025), 4],
        [sessionOpened(client), 1],
        [sessionClosed('client_delete'), 1],
      ];
    case 'ai-sdk-2':
      return [
        [op('server/discover', '', '', V2026), 1],
        [op('tools/list', '', '', V2026), 1],
        [op('tools/call', 'echo', '', V2026), 1],
        [op('tools/call', 'fail', 'tool_error', V2026), 1],
        [requests(client, V2026), 4],
      ];
  }
}

/** The table for the clients given, summed, series -> value. */
function expected(clients: readonly ClientName[], sdk2025: Sdk2025): Map<string, number> {
  const table = new Map<string, number>();
  for (const client of clients) {
    for (const [series, count] of contribution(client, UNKNOWN_TOOL_2025[sdk2025])) table.set(series, (table.get(series) ?? 0) + count);
  }
  return table;
}

/** Connections each client closes (sessions, listen streams): what to wait for before the next starts. */
const CLOSES: Record<ClientName, number> = { v1: 1, 'v2-legacy': 1, 'v2-auto': 0, 'v2-pinned': 1, 'ai-sdk-1': 1, 'ai-sdk-2': 0 };

const FAMILIES = new Set([
  'mcp_server_operation_duration_seconds_count',
  'mcp_server_client_requests_total',
  'mcp_server_sessions_total',
  'mcp_server_sessions_closed_total',
  'mcp_server_subscriptions_total',
  'mcp_server_subscription_duration_seconds_count',
  'mcp_server_requests_rejected_total',
]);

/** The compared families' non-zero series of an exposition (series created at 0 up front are no traffic). */
function actual(exposition: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [series, value] of seriesOf(exposition, (name) => FAMILIES.has(name))) if (Number(value) !== 0) out.set(series, Number(value));
  return out;
}

/** Every series where the way in differs from the table, as `series: actual A, expected E`. */
function differences(got: Map<string, number>, want: Map<string, number>): string[] {
  const keys = [...new Set([...want.keys(), ...got.keys()])].sort();
  return keys.filter((key) => got.get(key) !== want.get(key)).map((key) => `${key}: actual ${got.get(key) ?? 'none'}, expected ${want.get(key) ?? 'none'}`);
}

// ---------------------------------------------------------------------------------------------
// The traffic.

interface Callable {
  listTools(): Promise<unknown>;
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
}

/** The script both SDK lines run: list, echo, fail (isError), a tool nobody has (answered with an error either way). */
async function mcpScript(client: Callable): Promise<void> {
  await client.listTools();
  expect(await client.callTool({ name: 'echo', arguments: { text: 'parity' } })).toMatchObject({ content: [{ type: 'text', text: 'parity' }] });
  expect(await client.callTool({ name: 'fail', arguments: {} })).toMatchObject({ isError: true });
  // A result with isError (SDK v1 server, 2025) or a JSON-RPC error the client throws (SDK v2 server).
  const unknown = await client.callTool({ name: 'nope', arguments: {} }).catch((error: unknown) => ({ thrown: (error as { code?: unknown }).code }));
  expect(JSON.stringify(unknown)).toMatch(/-32602/);
}

/** The AI SDK clients' script: tools(), then execute echo and fail. */
async function aiSdkScript(client: {
  tools(): Promise<Record<string, { execute?: (args: never, options: never) => unknown }>>;
  close(): Promise<void>;
}): Promise<void> {
  const tools = await client.tools();
  const run = (name: string, args: Record<string, unknown>): unknown =>
    tools[name]?.execute?.(args as never, { toolCallId: name, messages: [] } as never);
  expect(await run('echo', { text: 'parity' })).toMatchObject({ content: [{ type: 'text', text: 'parity' }] });
  expect(await run('fail', {})).toMatchObject({ isError: true });
  await client.close();
}

/**
 * Drives every client against `url`, one after another; after each, waits (by event, never by
 * time) until `closesHeard(n)` says the way in has heard the n connections closed so far.
 */
async function drive(url: string, closesHeard: (n: number) => Promise<void>): Promise<void> {
  let closes = 0;
  const settle = async (client: ClientName): Promise<void> => {
    closes += CLOSES[client];
    await closesHeard(closes);
  };

  {
    const client = new Client({ name: 'v1', version: '1.32.2' });
    const transport = new StreamableHTTPClientTransport(new URL(url));
    await client.connect(transport);
    await mcpScript(client);
    await transport.terminateSession();
    await client.close();
    await settle('v1');
  }
  for (const [name, mode] of [
    ['v2-legacy', 'legacy'],
    ['v2-auto', 'auto'],
    ['v2-pinned', { pin: V2026 }],
  ] as const) {
    const client = new ClientV2({ name, version: '2.4.0' }, { versionNegotiation: { mode }, capabilities: {} });
    const transport = new TransportV2(new URL(url));
    await client.connect(transport);
    expect(client.getProtocolEra(), name).toBe(name === 'v2-legacy' ? 'legacy' : 'modern');
    await mcpScript(client);
    if (name === 'v2-pinned') {
      const subscription = await client.listen({ toolsListChanged: true });
      await subscription.close();
    }
    await transport.terminateSession(); // a DELETE in a 2025 session; nothing without one
    await client.close();
    await settle(name);
  }
  // The AI SDK reports here, instead of throwing: its first GET's 400 (ai-sdk-1), and on a
  // server with resumable streams (the CLI's event store) each SSE answer's priming event (an
  // `id:` with empty `data:`), which 1.x tries to parse as a message. Neither changes the traffic.
  const uncaught: unknown[] = [];
  const onUncaughtError = (error: unknown): void => void uncaught.push(error);
  await aiSdkScript(await createAiSdk1Client({ transport: { type: 'http', url }, name: 'ai-sdk-1', onUncaughtError }));
  await settle('ai-sdk-1');
  await aiSdkScript(await createAiSdk2Client({ transport: { type: 'http', url }, name: 'ai-sdk-2', onUncaughtError }));
  await settle('ai-sdk-2');
  const reported = uncaught.map(String).filter((text) => !text.endsWith('MCP HTTP Transport Error: Failed to parse message'));
  expect(reported).toEqual(['MCPClientError: MCP HTTP Transport Error: GET SSE failed: 400 Bad Request']);
}

// ---------------------------------------------------------------------------------------------
// The ways in.

interface WayIn {
  url: string;
  scrape(): Promise<string>;
  closesHeard(n: number): Promise<void>;
}

/** A McpMonitor of the test's own, with a close watcher. */
function libraryMonitor(): { monitor: McpMonitor; closesHeard: (n: number) => Promise<void> } {
  const watcher = closeWatcher();
  const monitor = new McpMonitor({ registry: new Registry(), monitor: watcher.monitor });
  defer(() => monitor.close());
  return { monitor, closesHeard: async (n) => void (await watcher.nth(n)) };
}

/** A CLI child: metrics from its admin /metrics, closes from its `mcp_connection_closed` log lines. */
function cliWay(cli: CliProcess): WayIn {
  return {
    url: cli.url,
    scrape: async () => (await fetch(`${cli.adminUrl}/metrics`)).text(),
    closesHeard: async (n) => {
      await cli.line(() => cli.lines.filter((line) => line.event === 'mcp_connection_closed').length >= n);
    },
  };
}

const V2_STDIO = fileURLToPath(new URL('../fixtures/v2-stdio-server.mjs', import.meta.url));

const WAYS: { name: string; sdk2025: Sdk2025; setUp(): Promise<WayIn> }[] = [
  {
    name: 'serve (CLI)',
    sdk2025: 'sdk-v1',
    setUp: async () => cliWay(await start(['serve'])),
  },
  {
    name: 'startMonitoredServer',
    sdk2025: 'sdk-v1',
    setUp: async () => {
      const watcher = closeWatcher();
      const server = await startMonitoredServer({
        serverFactory: demoServerFactory(),
        modernHandler: createDemoModernHandler(),
        port: 0,
        registry: new Registry(),
        monitor: watcher.monitor,
      });
      defer(() => server.close());
      return { url: server.url, scrape: () => (server.registry as Registry).metrics(), closesHeard: async (n) => void (await watcher.nth(n)) };
    },
  },
  {
    name: 'monitor.middleware() in express',
    sdk2025: 'sdk-v1',
    setUp: async () => {
      const { monitor, closesHeard } = libraryMonitor();
      const { app, close } = createBothErasApp(monitor);
      defer(close);
      const base = await listen(createServer(app));
      // The admin routes the app mounts.
      return { url: `${base}/mcp`, scrape: async () => (await fetch(`${base}/metrics`)).text(), closesHeard };
    },
  },
  {
    name: 'monitor.nodeHandler(fetchHandler)',
    sdk2025: 'sdk-v2',
    setUp: async () => {
      const { monitor, closesHeard } = libraryMonitor();
      const handler = createBothErasHandler();
      defer(() => handler.close());
      const base = await listen(createServer(monitor.nodeHandler(handler)));
      return { url: `${base}/mcp`, scrape: () => (monitor.registry as Registry).metrics(), closesHeard };
    },
  },
  {
    // Client addresses show as 'unknown' on this path (no socket reaches the monitor): no
    // compared series carries an address, so the table is the same.
    name: 'toNodeHandler(monitor.handler(fetchHandler))',
    sdk2025: 'sdk-v2',
    setUp: async () => {
      const { monitor, closesHeard } = libraryMonitor();
      const handler = createBothErasHandler();
      defer(() => handler.close());
      const base = await listen(createServer(toNodeHandler(monitor.handler(handler))));
      return { url: `${base}/mcp`, scrape: () => (monitor.registry as Registry).metrics(), closesHeard };
    },
  },
  {
    name: 'proxy --upstream (CLI)',
    sdk2025: 'sdk-v2',
    setUp: async () => {
      // An independent server: the fetch handler on plain node:http, no monitoring.
      const handler = createBothErasHandler();
      defer(() => handler.close());
      const upstream = `${await listen(createServer(toNodeHandler(handler)))}/mcp`;
      const proxy = await start(['proxy', '--upstream', upstream]);
      // Its start probe (to the upstream, not through the proxy) is over before the traffic.
      expect(await proxy.line((line) => line.event === 'upstream')).toMatchObject({ reachable: true });
      return cliWay(proxy);
    },
  },
  {
    name: 'proxy --stdio (CLI)',
    sdk2025: 'sdk-v2',
    setUp: async () => {
      const proxy = await start(['proxy', '--stdio', `${process.execPath} ${V2_STDIO} serve`]);
      expect(await proxy.line((line) => line.event === 'upstream')).toMatchObject({ tools: 4 });
      return cliWay(proxy);
    },
  },
];

describe('one traffic, every way in, one table', () => {
  for (const way of WAYS) {
    it(`${way.name} reports what the traffic sent`, { timeout: 30_000 }, async () => {
      const { url, scrape, closesHeard } = await way.setUp();
      await drive(url, closesHeard);
      expect(differences(actual(await scrape()), expected(CLIENTS, way.sdk2025)), `${way.name} differs from the table`).toEqual([]);
    });
  }

  it('a stateless server (createMcpHandler, legacy stateless) behind nodeHandler: the v1 script counts the same, no session, its GET a 405', async () => {
    const { monitor } = libraryMonitor();
    const handler = createMcpHandler(() => createDemoServerV2());
    defer(() => handler.close());
    const base = await listen(createServer(monitor.nodeHandler(handler)));
    const client = new Client({ name: 'v1', version: '1.32.2' });
    const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`));
    await client.connect(transport);
    await mcpScript(client);
    await transport.terminateSession(); // no session id: nothing sent
    await client.close();

    // The v1 client's rows of the stateful table (its operations and requests, under its own
    // name on every request), no session, and its standalone GET answered 405.
    const want = new Map([...expected(['v1'], 'sdk-v2')].filter(([series]) => !series.startsWith('mcp_server_sessions_')));
    want.set(rejected('method_not_allowed'), 1);
    expect(differences(actual(await (monitor.registry as Registry).metrics()), want), 'stateless nodeHandler differs from the table').toEqual([]);
  });
});
