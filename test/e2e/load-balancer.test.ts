/**
 * Replicas behind a real load balancer: Debian's HAProxy and nginx, started by the test with
 * the configurations the repository ships (deploy/), in front of two `mcp-exporter serve`
 * processes, with real SDK clients of both eras. Without session affinity a 2025 session
 * breaks, and the replicas' counts say so (unknown_session on the one that did not make
 * it); with affinity every session works and the counts are exact; a 2026-07-28 client
 * needs none. HAProxy spreads requests round robin, one at a time here, so which replica
 * gets which request is known.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { useCliProcesses, type CliProcess } from '../cli-process.js';
import { seriesOf } from '../helpers.js';
import { useLoadBalancers } from '../load-balancer-process.js';
import { eventually, shippedRules, useMonitoringProcesses, type Rule } from '../prometheus-process.js';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { DEFAULTS } from '../../src/cli/settings.js';

const { start } = useCliProcesses();
const monitoring = useMonitoringProcesses();
const balancers = useLoadBalancers();

/**
 * Two replicas (`serve`). A balancer notices that a client left a stream only when it next
 * writes to it: heartbeats every second make a legacy SSE session whose client left end
 * within a second or two, not 15 (the default interval).
 */
async function replicas(): Promise<[CliProcess, CliProcess]> {
  const args = ['serve', '--heartbeat-interval', '1s'];
  return [await start(args), await start(args)];
}
const hosts = (pair: [CliProcess, CliProcess]): [string, string] => [new URL(pair[0].url).host, new URL(pair[1].url).host];
const haproxy = (pair: [CliProcess, CliProcess], affinity: boolean): Promise<string> => balancers.haproxy(hosts(pair), affinity);
const nginx = (pair: [CliProcess, CliProcess]): Promise<string> => balancers.nginx(hosts(pair));

/** What a replica counted: its sessions by transport, closes, refusals for unknown sessions, and tool calls by protocol version. */
async function counts(replica: CliProcess): Promise<Record<string, number>> {
  const series = seriesOf(await (await fetch(`${replica.adminUrl}/metrics`)).text(), (name) => name.startsWith('mcp_server_'));
  const value = (key: string): number => Number(series.get(key) ?? 0);
  return {
    streamable: value('mcp_server_sessions_total{client_name="lb-client",transport="streamable_http"}'),
    sse: value('mcp_server_sessions_total{client_name="lb-client",transport="sse"}'),
    open: [...series].filter(([key]) => key.startsWith('mcp_server_sessions_active{')).reduce((sum, [, v]) => sum + Number(v), 0),
    deleted: value('mcp_server_sessions_closed_total{reason="client_delete",transport="streamable_http"}') + value('mcp_server_sessions_closed_total{reason="client_delete",transport="sse"}'),
    unknownSession: value('mcp_server_requests_rejected_total{reason="unknown_session"}'),
    calls2025: value('mcp_server_operation_duration_seconds_count{error_type="",gen_ai_tool_name="echo",mcp_method_name="tools/call",mcp_protocol_version="2025-11-25"}'),
    calls2026: value('mcp_server_operation_duration_seconds_count{error_type="",gen_ai_tool_name="echo",mcp_method_name="tools/call",mcp_protocol_version="2026-07-28"}'),
  };
}
const zero = { streamable: 0, sse: 0, open: 0, deleted: 0, unknownSession: 0, calls2025: 0, calls2026: 0 };

/** A 2025 client over Streamable HTTP: initialize, one call, DELETE. Resolves with the call's text, or the error that stopped it. */
async function streamableSession(url: string): Promise<string> {
  const client = new Client({ name: 'lb-client', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`));
  try {
    await client.connect(transport);
    const answer = (await client.callTool({ name: 'echo', arguments: { text: 'through the balancer' } })) as { content: { text: string }[] };
    await transport.terminateSession();
    return answer.content[0]?.text ?? '';
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  } finally {
    await client.close().catch(() => {});
  }
}

/** A 2025 client over the legacy SSE transport: GET /sse, then POST /messages?sessionId=. */
async function sseSession(url: string): Promise<string> {
  const client = new Client({ name: 'lb-client', version: '1.0.0' });
  try {
    await client.connect(new SSEClientTransport(new URL(`${url}/sse`)));
    const answer = (await client.callTool({ name: 'echo', arguments: { text: 'legacy, through the balancer' } })) as { content: { text: string }[] };
    return answer.content[0]?.text ?? '';
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  } finally {
    await client.close().catch(() => {});
  }
}

/** A 2026-07-28 client (SDK v2, pinned): discovery, then calls that stand alone. */
async function modernCalls(url: string, calls: number): Promise<string[]> {
  const client = new ModernClient({ name: 'lb-client', version: '2.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new ModernTransport(new URL(`${url}/mcp`)));
  const texts: string[] = [];
  for (let i = 0; i < calls; i++) {
    const answer = (await client.callTool({ name: 'echo', arguments: { text: `call ${i}` } })) as { content: { text: string }[] };
    texts.push(answer.content[0]?.text ?? '');
  }
  await client.close();
  return texts;
}

/** Resolves once the replicas have closed `sessions` sessions between them (a legacy SSE session closes when its client's stream ends). */
const closed = (pair: [CliProcess, CliProcess], sessions: number): Promise<unknown> =>
  eventually(`${sessions} sessions closed`, async () => ((await Promise.all(pair.map(counts))).reduce((sum, c) => sum + (c.deleted ?? 0), 0) === sessions ? true : undefined), 10_000);

/** The two replicas' counts, in an order that does not depend on which one the balancer picked first. */
const both = async (pair: [CliProcess, CliProcess]): Promise<Record<string, number>[]> =>
  (await Promise.all(pair.map(counts))).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('replicas behind HAProxy', () => {
  it('round robin without affinity: every 2025 session breaks, its initialize on one replica and its next request refused as unknown_session on the other', async () => {
    const pair = await replicas();
    const url = await haproxy(pair, false);
    const results: string[] = [];
    for (let i = 0; i < 4; i++) results.push(await streamableSession(url));
    expect(results.every((r) => r.startsWith('failed:'))).toBe(true);
    // Each client's initialize went to the first replica (a session it never sees again,
    // left open until its idle timeout), its initialized notification to the second (404).
    expect(await both(pair)).toEqual([
      { ...zero, unknownSession: 4 },
      { ...zero, streamable: 4, open: 4 },
    ]);
  });

  it('round robin without affinity: a legacy SSE session breaks the same way', async () => {
    const pair = await replicas();
    const url = await haproxy(pair, false);
    const results = [await sseSession(url), await sseSession(url)];
    expect(results.every((r) => r.startsWith('failed:'))).toBe(true);
    // GET /sse on one replica (no session yet: it waits for an initialize), the initialize POST on the other.
    expect(await both(pair)).toEqual([zero, { ...zero, unknownSession: 2 }]);
  });

  it('with the shipped affinity (Mcp-Session-Id learnt from the answer, sessionId for legacy SSE), every session works and the counts are exact', async () => {
    const pair = await replicas();
    const url = await haproxy(pair, true);
    const results: string[] = [];
    for (let i = 0; i < 4; i++) results.push(await streamableSession(url));
    for (let i = 0; i < 2; i++) results.push(await sseSession(url));
    expect(results).toEqual([...Array(4).fill('through the balancer'), ...Array(2).fill('legacy, through the balancer')]);
    await closed(pair, 6);
    // Only requests without a session id are spread: the initializes (and the SSE streams) alternate.
    expect(await both(pair)).toEqual([
      { ...zero, streamable: 2, sse: 1, deleted: 3, calls2025: 3 },
      { ...zero, streamable: 2, sse: 1, deleted: 3, calls2025: 3 },
    ]);
  });

  it('2026-07-28 clients need no affinity: their requests stand alone, spread over both replicas', async () => {
    const pair = await replicas();
    const url = await haproxy(pair, false);
    expect(await modernCalls(url, 4)).toEqual(['call 0', 'call 1', 'call 2', 'call 3']);
    // server/discover on one replica, then the calls alternate.
    expect(await both(pair)).toEqual([
      { ...zero, calls2026: 2 },
      { ...zero, calls2026: 2 },
    ]);
  });
});

describe('replicas behind nginx', () => {
  it("with the shipped affinity (the client's address), every session of both transports works and the counts are exact", async () => {
    const pair = await replicas();
    const url = await nginx(pair);
    const results = [await streamableSession(url), await streamableSession(url), await sseSession(url)];
    expect(results).toEqual(['through the balancer', 'through the balancer', 'legacy, through the balancer']);
    expect(await modernCalls(url, 2)).toEqual(['call 0', 'call 1']);
    await closed(pair, 3);
    // One client address: one replica has every session, the other nothing.
    expect(await both(pair)).toEqual([zero, { ...zero, streamable: 2, sse: 1, deleted: 3, calls2025: 3, calls2026: 2 }]);
  });
});

/** The shipped McpSessionAffinityBroken, its windows cut from 5m to 10s and its `for` from 10m to 2s; otherwise as shipped. */
function affinityRule(): Rule {
  const rule = shippedRules().find((r) => r.alert === 'McpSessionAffinityBroken');
  if (!rule) throw new Error('McpSessionAffinityBroken is not in prometheus/alerts.yml');
  expect([rule.for, rule.expr.match(/\[5m\]/g)?.length]).toEqual(['10m', 1]);
  return { ...rule, expr: rule.expr.replace('[5m]', '[10s]'), for: '2s' };
}

describe('McpSessionAffinityBroken with a real Prometheus scraping the replicas', () => {
  it('fires for the replica that refuses sessions made on the other, behind round robin, and resolves when the clients stop', async () => {
    const pair = await replicas();
    const url = await haproxy(pair, false);
    const rules = join(monitoring.dir(), 'alerts.yml');
    writeFileSync(rules, stringifyYaml({ groups: [{ name: 'mcp-exporter-test', rules: [affinityRule()] }] }));
    const instances = pair.map((replica) => new URL(replica.adminUrl).host);
    const prom = await monitoring.prometheus(
      stringifyYaml({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [rules],
        scrape_configs: [{ job_name: 'mcp-exporter', static_configs: [{ targets: instances }] }],
      }),
    );
    type PromAlert = { labels: Record<string, string>; annotations: Record<string, string>; state: string };
    const alerts = async (): Promise<PromAlert[]> => ((await (await fetch(`${prom.url}/api/v1/alerts`)).json()) as { data: { alerts: PromAlert[] } }).data.alerts;
    await eventually('both replicas scraped', async () => ((await prom.scalar('count(up{job="mcp-exporter"} == 1)')) === 2 ? true : undefined));
    expect(await alerts()).toEqual([]);

    // Clients keep starting sessions through the balancer, and each one breaks.
    let clients = true;
    const traffic = (async () => {
      while (clients) await streamableSession(url);
    })();
    const firing = await eventually('McpSessionAffinityBroken firing', async () => (await alerts()).find((a) => a.state === 'firing'), 40_000);
    clients = false;
    await traffic;
    // The replica that refuses is the one whose counts show the refusals (the other holds the broken sessions).
    const [first, second] = await Promise.all(pair.map(counts));
    const expected = (first?.unknownSession ?? 0) > 0 ? instances[0] : instances[1];
    expect([first?.unknownSession === 0, second?.unknownSession === 0].filter(Boolean).length).toBe(1);
    expect(firing.labels).toEqual({ alertname: 'McpSessionAffinityBroken', instance: expected, job: 'mcp-exporter', severity: 'warning' });
    expect(firing.annotations.summary).toBe('Session affinity looks broken in front of mcp-exporter');
    expect(firing.annotations.description).toMatch(
      new RegExp(`^${expected?.replace(/\./g, '\\.')} refuses \\d+\\.\\d{3} requests per second for sessions it does not know \\(last 5m\\) while other replicas of mcp-exporter hold open sessions: the load balancer sends 2025 sessions to replicas that did not make them\\.$`),
    );
    expect(firing.annotations.runbook_url).toBe('https://github.com/mcp-exporter/mcp-exporter/blob/main/docs/runbooks.md#mcpsessionaffinitybroken');
    // No more refusals: the window empties and the alert resolves.
    await eventually('McpSessionAffinityBroken resolved', async () => ((await alerts()).length === 0 ? true : undefined), 40_000);
  }, 120_000);
});

describe('the shipped configurations', () => {
  const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

  it("keep a session's replica as long as the exporter keeps an idle session", () => {
    expect(DEFAULTS.sessionIdleTimeoutSeconds).toBe(1800);
    expect(/stick-table type string len \d+ size \S+ expire (\d+)m/.exec(read('deploy/haproxy/haproxy.cfg'))?.[1]).toBe('30');
    // Kubernetes (no cluster here: the Service is checked by reading it).
    const service = parseYaml(read('deploy/kubernetes/service.yaml')) as {
      kind: string;
      spec: { selector: Record<string, string>; ports: { port: number; targetPort: number }[]; sessionAffinity: string; sessionAffinityConfig: { clientIP: { timeoutSeconds: number } } };
    };
    expect([service.kind, service.spec.sessionAffinity, service.spec.sessionAffinityConfig.clientIP.timeoutSeconds]).toEqual(['Service', 'ClientIP', DEFAULTS.sessionIdleTimeoutSeconds]);
    expect(service.spec.ports.map((p) => [p.port, p.targetPort])).toEqual([[DEFAULTS.port, DEFAULTS.port]]);
  });
});
