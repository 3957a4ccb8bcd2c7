import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';
import { useCliProcesses } from '../cli-process.js';
import { useTestPeers } from '../peers.js';
import { eventually, freePort, shippedRules, useMonitoringProcesses, type Rule } from '../prometheus-process.js';

const { start } = useCliProcesses();
const { sdkServer, v1 } = useTestPeers();
const monitoring = useMonitoringProcesses();

/** The shipped McpUpstreamDown, its `for` cut from 2m to 2s; expression, labels and annotations as shipped. */
function upstreamDownRule(): Rule {
  const rule = shippedRules().find((r) => r.alert === 'McpUpstreamDown');
  if (!rule) throw new Error('McpUpstreamDown is not in prometheus/alerts.yml');
  expect(rule.for).toBe('2m');
  return { ...rule, for: '2s' };
}

interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
}

describe('McpUpstreamDown with a real Prometheus', () => {
  it('fires when the server behind the proxy stops and resolves when it is back', async () => {
    const port = await freePort();
    const server = () => new McpServer({ name: 'behind', version: '1' });
    let upstream = await sdkServer(server, () => {}, port);
    const proxy = await start(['proxy', '--upstream', `http://127.0.0.1:${port}/mcp`, '--upstream-check-interval', '1s']);
    const rules = join(monitoring.dir(), 'alerts.yml');
    writeFileSync(rules, stringifyYaml({ groups: [{ name: 'mcp-exporter-test', rules: [upstreamDownRule()] }] }));
    const instance = new URL(proxy.adminUrl).host;
    const prom = await monitoring.prometheus(
      stringifyYaml({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [rules],
        scrape_configs: [{ job_name: 'mcp-exporter', static_configs: [{ targets: [instance] }] }],
      }),
    );
    const alerts = async (): Promise<PromAlert[]> => {
      const body = (await (await fetch(`${prom.url}/api/v1/alerts`)).json()) as { data: { alerts: PromAlert[] } };
      return body.data.alerts;
    };
    await eventually('the upstream scraped as up', async () => ((await prom.scalar('mcp_exporter_upstream_up')) === 1 ? true : undefined));
    await v1(proxy.url, 'before');
    expect(await alerts()).toEqual([]);

    // The server behind stops: the proxy's check finds it, and after `for` the alert fires.
    await upstream.stop();
    const firing = await eventually('McpUpstreamDown firing', async () => (await alerts()).find((a) => a.state === 'firing'));
    expect(firing.labels).toEqual({ alertname: 'McpUpstreamDown', instance, job: 'mcp-exporter', severity: 'critical' });
    expect(firing.annotations).toEqual({
      summary: `The MCP server behind ${instance} does not answer`,
      description: `${instance} of job mcp-exporter proxies an MCP server that has not answered for 2 minutes: its clients get 502 errors, and load balancers that check /-/ready send them elsewhere.`,
      runbook_url: 'https://github.com/mcp-exporter/mcp-exporter/blob/main/docs/runbooks.md#mcpupstreamdown',
    });
    expect(await prom.scalar('sum(mcp_exporter_upstream_failures_total{reason="connection_refused"})')).toBeGreaterThanOrEqual(1);

    // It is back: the next check finds it, and the alert resolves with no client's help.
    upstream = await sdkServer(server, () => {}, port);
    await eventually('McpUpstreamDown resolved', async () => ((await alerts()).length === 0 ? true : undefined));
    expect(await prom.scalar('mcp_exporter_upstream_up')).toBe(1);
    await v1(proxy.url, 'after');
  }, 60_000);
});
