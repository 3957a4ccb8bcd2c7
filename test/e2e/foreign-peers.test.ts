import { describe, expect, it } from 'vitest';
import { useCliProcesses, type CliProcess } from '../cli-process.js';
import { aiSdkTraffic, pythonMcp, runPythonClient, useForeignPeers, wireSummary, type AiSdkTraffic } from '../foreign-peers.js';
import { samples } from '../helpers.js';
import { useTestPeers } from '../peers.js';

// Peers nobody here wrote, on real HTTP: the Vercel AI SDK's MCP client (@ai-sdk/mcp 1.x opens
// 2025 sessions, 2.x speaks 2026-07-28), tmcp (a server without the official SDK, 2025-06-18 at
// most in 2025) and the official Python SDK. Every number is read from /metrics, exactly.

const MODERN = '2026-07-28';
const { start } = useCliProcesses();
const { v1: v1Client } = useTestPeers();
const peers = useForeignPeers();
const python = pythonMcp();
if ('skip' in python) console.warn(python.skip);

const metrics = async (target: CliProcess): Promise<string> => (await fetch(`${target.adminUrl}/metrics`)).text();
const nonZero = (text: string, name: string): string[] => samples(text, name).filter((line) => !line.endsWith(' 0'));
const sorted = (lines: string[]): string[] => [...lines].sort();
const op = (method: string, version: string, tool = '', error = '', count = 1): string =>
  `mcp_server_operation_duration_seconds_count{mcp_method_name="${method}",gen_ai_tool_name="${tool}",error_type="${error}",mcp_protocol_version="${version}"} ${count}`;
/** The operations of one client's scripted traffic (tools/list, echo, fail) after its first request, `count` clients alike. */
const scripted = (version: string, first: string, count = 1): string[] => [
  op(first, version, '', '', count),
  op('tools/list', version, '', '', count),
  op('tools/call', version, 'echo', '', count),
  op('tools/call', version, 'fail', 'tool_error', count),
];
const requests = (client: string, version: string, count: number): string =>
  `mcp_server_client_requests_total{client_name="${client}",mcp_protocol_version="${version}"} ${count}`;
/** Waits until `target` has logged `count` closes (of sessions, of listen streams). */
async function closes(target: CliProcess, count: number): Promise<void> {
  for (let n = 1; n <= count; n += 1) {
    const seen = (): number => target.lines.filter((line) => line.event === 'mcp_connection_closed').length;
    if (seen() >= n) continue;
    await target.line((line) => line.event === 'mcp_connection_closed' && seen() >= n);
  }
}

const AI_TOOLS = ['echo', 'fail', 'sleep', 'throw'];
/** What a scripted @ai-sdk/mcp client gets from the demo tools (2.x adds the server's _meta and resultType to each result). */
function expectDemoAnswers(got: AiSdkTraffic, text: string): void {
  expect(got.tools).toEqual(AI_TOOLS);
  expect(got.echo).toMatchObject({ content: [{ type: 'text', text }], isError: false });
  expect(got.fail).toMatchObject({ content: [{ type: 'text', text: 'the demo tool failed on purpose' }], isError: true });
}

describe('proxy --upstream in front of tmcp (no official SDK on either side of the session)', () => {
  it('probes tmcp at start: logs every version it speaks (server/discover: 2026-07-28; initialize: 2025-06-18) and DELETEs the session it opened', async () => {
    const tmcp = await peers.tmcpServer();
    const proxy = await start(['proxy', '--upstream', tmcp.url]);
    expect(await proxy.line((line) => line.event === 'upstream')).toMatchObject({ reachable: true, versions: [MODERN, '2025-06-18'], tools: 4 });
    expect(wireSummary(tmcp.wire)).toEqual([
      `POST server/discover [no-session v${MODERN}] -> 200 text/event-stream`,
      `POST tools/list [no-session v${MODERN}] -> 200 text/event-stream`,
      'POST initialize [no-session] -> 200 text/event-stream (answer names s1)',
      'POST notifications/initialized [s1 v2025-06-18] -> 202',
      'DELETE [s1 v2025-06-18] -> 200',
    ]);
    expect([tmcp.opened(), tmcp.sessions()]).toEqual([1, 0]);
  });

  it('SDK v1, @ai-sdk/mcp 1.x and 2.x through it: every operation under the NEGOTIATED version (initialize too), one version per client, sessions counted and closed', async () => {
    const tmcp = await peers.tmcpServer();
    const proxy = await start(['proxy', '--upstream', tmcp.url]);
    await proxy.line((line) => line.event === 'upstream');

    const { client: sdk, transport: sdkTransport } = await v1Client(proxy.url, 'sdk-v1');
    expect((await sdk.listTools()).tools.map((tool) => tool.name).sort()).toEqual(AI_TOOLS);
    expect(await sdk.callTool({ name: 'echo', arguments: { text: 'sdk' } })).toEqual({ content: [{ type: 'text', text: 'sdk' }] });
    expect((await sdk.callTool({ name: 'fail', arguments: {} })).isError).toBe(true);
    const ai1 = await peers.aiSdkClient(proxy.url, 'ai-sdk-v1', 1);
    expectDemoAnswers(await aiSdkTraffic(ai1.client, 'ai one'), 'ai one');
    const ai2 = await peers.aiSdkClient(proxy.url, 'ai-sdk-v2', 2);
    expectDemoAnswers(await aiSdkTraffic(ai2.client, 'ai two'), 'ai two');

    // @ai-sdk/mcp 1.x opens a GET before initialize; tmcp answers a GET without a session id
    // with a stream under a session id of its own making. The client must have kept the id of
    // its initialize answer (it did in every run so far), else the numbers below mean nothing.
    const initialized = new Set(tmcp.wire.filter((x) => x.rpc === 'initialize').map((x) => x.answeredSession));
    const strays = tmcp.wire.filter((x) => x.rpc === 'tools/call' && x.session !== '' && !initialized.has(x.session));
    expect(strays, 'ai-sdk 1.x adopted the session id of its own session-less GET: a race between it and tmcp, not a proxy defect').toEqual([]);

    // The sessions the proxy follows carry what tmcp negotiated.
    const open = (await (await fetch(`${proxy.adminUrl}/api/mcp/connections`)).json()) as { connections: { clientName: string; protocolVersion: string }[] };
    expect(open.connections.map((c) => `${c.clientName} ${c.protocolVersion}`).sort()).toEqual(['ai-sdk-v1 2025-06-18', 'sdk-v1 2025-06-18']);

    await sdkTransport.terminateSession();
    await ai1.client.close();
    await ai2.client.close();
    await closes(proxy, 2);
    expect(tmcp.sessions()).toBe(0);

    const text = await metrics(proxy);
    expect.soft(sorted(nonZero(text, 'mcp_server_operation_duration_seconds_count'))).toEqual(
      sorted([...scripted('2025-06-18', 'initialize', 2), ...scripted(MODERN, 'server/discover')]),
    );
    expect.soft(sorted(nonZero(text, 'mcp_server_client_requests_total'))).toEqual(
      sorted([requests('sdk-v1', '2025-06-18', 4), requests('ai-sdk-v1', '2025-06-18', 4), requests('ai-sdk-v2', MODERN, 4)]),
    );
    expect(samples(text, 'mcp_server_sessions_total')).toEqual([
      'mcp_server_sessions_total{transport="streamable_http",client_name="sdk-v1"} 1',
      'mcp_server_sessions_total{transport="streamable_http",client_name="ai-sdk-v1"} 1',
    ]);
    expect(nonZero(text, 'mcp_server_sessions_active')).toEqual([]);
    expect(nonZero(text, 'mcp_server_sessions_closed_total')).toEqual(['mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 2']);
    expect(nonZero(text, 'mcp_server_requests_rejected_total')).toEqual([]);
  });
});

describe("proxy --upstream in front of serve (the CLI's demo: an event store, so every SSE answer opens with a priming event)", () => {
  it('its start-up probe reads the answer past the priming event: logs 2026-07-28 and 2025-11-25, and leaves no session open upstream', async () => {
    const serve = await start(['serve']);
    const proxy = await start(['proxy', '--upstream', serve.url]);
    const found = await proxy.line((line) => line.event === 'upstream');
    expect.soft(found).toMatchObject({ reachable: true, versions: [MODERN, '2025-11-25'], tools: 4 });
    const upstream = (await (await fetch(`${serve.adminUrl}/api/mcp/connections`)).json()) as { activeConnections: number; connections: { clientName: string }[] };
    expect.soft(upstream.connections.map((c) => c.clientName)).toEqual([]);
    const text = await metrics(serve);
    expect.soft(nonZero(text, 'mcp_server_sessions_active')).toEqual([]);
    expect.soft(nonZero(text, 'mcp_server_sessions_closed_total')).toEqual(['mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 1']);
  });

  it("@ai-sdk/mcp 1.x through it: the proxy counts the client's session-less GET (answered 400) as serve counts it, missing_session", async () => {
    const serve = await start(['serve']);
    const proxy = await start(['proxy', '--upstream', serve.url]);
    await proxy.line((line) => line.event === 'upstream');
    const { client } = await peers.aiSdkClient(proxy.url, 'ai-sdk-v1', 1);
    expectDemoAnswers(await aiSdkTraffic(client, 'via proxy'), 'via proxy');
    await client.close();
    await closes(proxy, 1);

    const text = await metrics(proxy);
    expect(sorted(nonZero(text, 'mcp_server_operation_duration_seconds_count'))).toEqual(sorted(scripted('2025-11-25', 'initialize')));
    expect(nonZero(text, 'mcp_server_client_requests_total')).toEqual([requests('ai-sdk-v1', '2025-11-25', 4)]);
    expect(nonZero(await metrics(serve), 'mcp_server_requests_rejected_total')).toEqual(['mcp_server_requests_rejected_total{reason="missing_session"} 1']);
    expect(nonZero(text, 'mcp_server_requests_rejected_total')).toEqual(['mcp_server_requests_rejected_total{reason="missing_session"} 1']);
  });
});

describe('@ai-sdk/mcp against serve', () => {
  it('1.x: a 2025 session (GET without a session id first: 400, missing_session), every operation counted under 2025-11-25, closed by its DELETE', async () => {
    const serve = await start(['serve']);
    const recorder = await peers.recorder(serve.url);
    const { client } = await peers.aiSdkClient(recorder.url, 'ai-sdk-v1', 1);
    expectDemoAnswers(await aiSdkTraffic(client, 'one'), 'one');
    await client.close();
    await closes(serve, 1);

    expect(sorted(wireSummary(recorder.wire))).toEqual(
      sorted([
        'GET [no-session v2025-11-25] -> 400 application/json',
        'POST initialize [no-session v2025-11-25] -> 200 text/event-stream (answer names s1)',
        'POST notifications/initialized [s1 v2025-11-25] -> 202',
        'GET [s1 v2025-11-25] -> 200 text/event-stream',
        'POST tools/list [s1 v2025-11-25] -> 200 text/event-stream',
        'POST tools/call [s1 v2025-11-25] -> 200 text/event-stream',
        'POST tools/call [s1 v2025-11-25] -> 200 text/event-stream',
        'DELETE [s1 v2025-11-25] -> 200',
      ]),
    );
    const text = await metrics(serve);
    expect(sorted(nonZero(text, 'mcp_server_operation_duration_seconds_count'))).toEqual(sorted(scripted('2025-11-25', 'initialize')));
    expect(nonZero(text, 'mcp_server_client_requests_total')).toEqual([requests('ai-sdk-v1', '2025-11-25', 4)]);
    expect(nonZero(text, 'mcp_server_requests_rejected_total')).toEqual(['mcp_server_requests_rejected_total{reason="missing_session"} 1']);
    expect(nonZero(text, 'mcp_server_sessions_total')).toEqual(['mcp_server_sessions_total{transport="streamable_http",client_name="ai-sdk-v1"} 1']);
    expect(nonZero(text, 'mcp_server_sessions_closed_total')).toEqual(['mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 1']);
  });

  it('2.x: 2026-07-28 from its first request (server/discover), no session, no GET, every request counted', async () => {
    const serve = await start(['serve']);
    const recorder = await peers.recorder(serve.url);
    const { client } = await peers.aiSdkClient(recorder.url, 'ai-sdk-v2', 2);
    expectDemoAnswers(await aiSdkTraffic(client, 'two'), 'two');
    await client.close();

    expect(wireSummary(recorder.wire)).toEqual([
      `POST server/discover [no-session v${MODERN}] -> 200 application/json`,
      `POST tools/list [no-session v${MODERN}] -> 200 application/json`,
      `POST tools/call [no-session v${MODERN}] -> 200 application/json`,
      `POST tools/call [no-session v${MODERN}] -> 200 application/json`,
    ]);
    const text = await metrics(serve);
    expect(sorted(nonZero(text, 'mcp_server_operation_duration_seconds_count'))).toEqual(sorted(scripted(MODERN, 'server/discover')));
    expect(nonZero(text, 'mcp_server_client_requests_total')).toEqual([requests('ai-sdk-v2', MODERN, 4)]);
    expect(nonZero(text, 'mcp_server_requests_rejected_total')).toEqual([]);
    expect(nonZero(text, 'mcp_server_sessions_total')).toEqual([]);
  });
});

describe.skipIf('skip' in python)('skip' in python ? python.skip : 'the official Python SDK (mcp 2.3.0)', () => {
  const exe = 'python' in python ? python.python : '';
  const ran = { tools: AI_TOOLS, echo: 'from python', failIsError: true };

  it('its client against serve: mode legacy is a 2025 session (2025-11-25), mode auto is 2026-07-28', { timeout: 30_000 }, async () => {
    const serve = await start(['serve']);
    const recorder = await peers.recorder(serve.url);
    expect(await runPythonClient(exe, recorder.url, 'legacy', 'py-legacy')).toEqual({ protocolVersion: '2025-11-25', ...ran });
    await closes(serve, 1);
    expect(wireSummary(recorder.wire)).toEqual([
      'POST initialize [no-session] -> 200 text/event-stream (answer names s1)',
      'POST notifications/initialized [s1 v2025-11-25] -> 202',
      'GET [s1 v2025-11-25] -> 200 text/event-stream',
      'POST tools/list [s1 v2025-11-25] -> 200 text/event-stream',
      'POST tools/call [s1 v2025-11-25] -> 200 text/event-stream',
      'POST tools/call [s1 v2025-11-25] -> 200 text/event-stream',
      'DELETE [s1 v2025-11-25] -> 200',
    ]);
    recorder.wire.length = 0;
    expect(await runPythonClient(exe, recorder.url, 'auto', 'py-auto')).toEqual({ protocolVersion: MODERN, ...ran });
    expect(wireSummary(recorder.wire)).toEqual([
      `POST server/discover [no-session v${MODERN}] -> 200 application/json`,
      `POST tools/list [no-session v${MODERN}] -> 200 application/json`,
      `POST tools/call [no-session v${MODERN}] -> 200 application/json`,
      `POST tools/call [no-session v${MODERN}] -> 200 application/json`,
    ]);

    const text = await metrics(serve);
    expect(sorted(nonZero(text, 'mcp_server_operation_duration_seconds_count'))).toEqual(
      sorted([...scripted('2025-11-25', 'initialize'), ...scripted(MODERN, 'server/discover')]),
    );
    expect(nonZero(text, 'mcp_server_client_requests_total')).toEqual([requests('py-legacy', '2025-11-25', 4), requests('py-auto', MODERN, 4)]);
    expect(nonZero(text, 'mcp_server_sessions_total')).toEqual(['mcp_server_sessions_total{transport="streamable_http",client_name="py-legacy"} 1']);
    expect(nonZero(text, 'mcp_server_sessions_closed_total')).toEqual(['mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 1']);
    expect(nonZero(text, 'mcp_server_requests_rejected_total')).toEqual([]);
  });

  it('its MCPServer (FastMCP in mcp 1.x) behind proxy --upstream: probed without a session left, both clients counted exactly', { timeout: 30_000 }, async () => {
    const server = await peers.pythonServer(exe);
    const proxy = await start(['proxy', '--upstream', server.url]);
    expect(await proxy.line((line) => line.event === 'upstream')).toMatchObject({ reachable: true, versions: [MODERN, '2025-11-25'], tools: 4 });
    expect(await server.sessions()).toBe(0);

    expect(await runPythonClient(exe, proxy.url, 'legacy', 'py-legacy')).toEqual({ protocolVersion: '2025-11-25', ...ran });
    expect(await runPythonClient(exe, proxy.url, 'auto', 'py-auto')).toEqual({ protocolVersion: MODERN, ...ran });
    await closes(proxy, 1);
    expect(await server.sessions()).toBe(0);

    const text = await metrics(proxy);
    expect(sorted(nonZero(text, 'mcp_server_operation_duration_seconds_count'))).toEqual(
      sorted([...scripted('2025-11-25', 'initialize'), ...scripted(MODERN, 'server/discover')]),
    );
    expect(nonZero(text, 'mcp_server_client_requests_total')).toEqual([requests('py-legacy', '2025-11-25', 4), requests('py-auto', MODERN, 4)]);
    expect(nonZero(text, 'mcp_server_sessions_total')).toEqual(['mcp_server_sessions_total{transport="streamable_http",client_name="py-legacy"} 1']);
    expect(nonZero(text, 'mcp_server_sessions_active')).toEqual([]);
    expect(nonZero(text, 'mcp_server_sessions_closed_total')).toEqual(['mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 1']);
    expect(nonZero(text, 'mcp_server_requests_rejected_total')).toEqual([]);
  });
});
