import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { LoadSummary } from '../../src/loadgen/load-generator.js';
import { CLI, cleanEnv, useCliProcesses } from '../cli-process.js';
import { useLoadBalancers } from '../load-balancer-process.js';
import { eventually, requireAlertmanager, shippedRules, useMonitoringProcesses, type AlertmanagerHandle, type PrometheusHandle, type Rule } from '../prometheus-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RUNBOOKS = 'https://github.com/mcp-exporter/mcp-exporter/blob/main/docs/runbooks.md';
const { start } = useCliProcesses('file');
const monitoring = useMonitoringProcesses();
const balancers = useLoadBalancers('file');


/** Replaces `from` by `to` in `text`, failing if `from` is not there: a changed shipped rule must show here. */
function rewrite(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`"${from}" not found in: ${text}`);
  return text.split(from).join(to);
}

/**
 * The shipped McpConnectionSpike with its time scaled down for a test: a 5 s window against
 * the 15 s before it, a 20 s history guard and `for: 1s`. Labels and annotations stay as shipped.
 */
function spikeRuleForTest(): Rule {
  const rule = shippedRules().find((r) => r.alert === 'McpConnectionSpike');
  if (!rule) throw new Error('McpConnectionSpike is not in prometheus/alerts.yml');
  let expr = rewrite(rule.expr, '[1h] offset 5m', '[15s] offset 5s');
  expr = rewrite(expr, 'offset 65m', 'offset 20s');
  expr = rewrite(expr, '[5m]', '[5s]');
  expect(expr).not.toMatch(/\[\d+[mh]\]|offset \d+[mh]/);
  expect(rule.for).toBe('5m');
  return { ...rule, expr, for: '1s' };
}

/** One POST Alertmanager's webhook_config made. */
interface WebhookPayload {
  receiver: string;
  status: 'firing' | 'resolved';
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string }[];
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  version: string;
}

/** A webhook receiver on port 0: every delivery kept, and awaited by predicate. */
async function startWebhook(): Promise<{ url: string; deliveries: WebhookPayload[]; next: (match: (p: WebhookPayload) => boolean) => Promise<WebhookPayload>; server: Server }> {
  const deliveries: WebhookPayload[] = [];
  const waiters: { match: (p: WebhookPayload) => boolean; resolve: (p: WebhookPayload) => void }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const payload = JSON.parse(body) as WebhookPayload;
      deliveries.push(payload);
      for (const waiter of waiters.filter((w) => w.match(payload))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(payload);
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const next = (match: (p: WebhookPayload) => boolean): Promise<WebhookPayload> => {
    const seen = deliveries.find(match);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
  };
  return { url: `http://127.0.0.1:${port}/alerts`, deliveries, next, server };
}

/** `mcp-exporter loadgen` as a child process; `stop` sends SIGTERM (it finishes its sessions and prints the summary). */
function runLoadgen(args: string[]): { done: Promise<LoadSummary>; stop: () => void; child: ChildProcessWithoutNullStreams } {
  const child = spawn(process.execPath, [CLI, 'loadgen', ...args], { env: cleanEnv() });
  loadgens.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const done = new Promise<LoadSummary>((resolve, reject) => {
    child.once('exit', (code) => {
      if (code === 0) resolve(JSON.parse(stdout.trim()) as LoadSummary);
      else reject(new Error(`loadgen exited with ${code}: ${stderr}`));
    });
  });
  // A test that fails early leaves it to afterAll's SIGKILL: not an unhandled rejection.
  done.catch(() => undefined);
  return { done, stop: () => child.kill('SIGTERM'), child };
}
const loadgens: ChildProcessWithoutNullStreams[] = [];

/** The loadgen arguments of docker-compose.yml, pointed at `urls` instead of the compose services (its load balancer) and run for `seconds`. */
function composeLoadgenArgs(urls: readonly string[], seconds: number): string[] {
  const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { command?: string[] }> };
  const command = compose.services.loadgen?.command ?? [];
  expect(command.slice(0, 2)).toEqual(['mcp-exporter', 'loadgen']);
  const args = command.slice(2);
  const composeUrls = args.filter((_, i) => args[i - 1] === '--url');
  expect(composeUrls.length).toBe(urls.length);
  let url = 0;
  return args.map((arg, i) => (args[i - 1] === '--url' ? (urls[url++] ?? '') : args[i - 1] === '--duration' ? String(seconds) : arg));
}

describe('Alertmanager config', () => {
  it('amtool accepts the shipped prometheus/alertmanager.yml', () => {
    requireAlertmanager();
    const result = spawnSync('amtool', ['check-config', join(ROOT, 'prometheus/alertmanager.yml')], { encoding: 'utf8' });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(result.stdout).toContain('SUCCESS');
  });
});

describe('alerts end to end: Prometheus, Alertmanager and a webhook beside two mcp-exporter serve processes', () => {
  let prom: PrometheusHandle;
  let alertmanager: AlertmanagerHandle;
  let webhook: Awaited<ReturnType<typeof startWebhook>>;
  let urls: string[] = [];
  /** HAProxy with deploy/haproxy/haproxy.cfg in front of both, as in the compose stack. */
  let balancer = '';

  beforeAll(async () => {
    webhook = await startWebhook();
    // Idle sessions end after 2 s (60 s in compose), so the dropped calls' _OTHER errors count within the run.
    const exporters = await Promise.all([start(['serve', '--session-idle-timeout', '2']), start(['serve', '--session-idle-timeout', '2'])]);
    urls = exporters.map((e) => e.url);
    balancer = await balancers.haproxy([new URL(urls[0] ?? '').host, new URL(urls[1] ?? '').host], true);
    const amConfig = stringifyYaml({
      route: { receiver: 'webhook', group_by: ['alertname', 'job'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
      receivers: [{ name: 'webhook', webhook_configs: [{ url: webhook.url, send_resolved: true }] }],
    });
    alertmanager = await monitoring.alertmanager(amConfig);
    const rules = join(monitoring.dir(), 'alerts.yml');
    writeFileSync(rules, stringifyYaml({ groups: [{ name: 'mcp-exporter-test', rules: [spikeRuleForTest()] }] }));
    prom = await monitoring.prometheus(
      stringifyYaml({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [rules],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [alertmanager.address] }] }] },
        scrape_configs: [{ job_name: 'mcp-exporter', static_configs: [{ targets: urls.map((u) => new URL(u).host) }] }],
      }),
      ['--rules.alert.resend-delay=1s'],
    );
    await eventually('both exporters scraped', async () => ((await prom.scalar('count(up{job="mcp-exporter"} == 1)')) === 2 ? true : undefined));
  }, 30_000);

  afterAll(async () => {
    for (const child of loadgens.splice(0)) child.kill('SIGKILL');
    await new Promise((resolve) => webhook?.server.close(resolve));
  });

  it('the docker-compose loadgen mix stays below every alert threshold, and McpConnectionSpike stays quiet on it from a cold start', async () => {
    const startedAt = Date.now() / 1000;
    const summary = await runLoadgen(composeLoadgenArgs([`${balancer}/mcp`], 12)).done;
    expect(summary.sessionsFailed).toBe(0);
    expect(summary.sessionsStarted).toBeGreaterThan(10);
    // Every session has ended (the idle and dropped ones by the idle timeout) and Prometheus has scraped it.
    await eventually('every session closed and scraped', async () =>
      (await prom.scalar('sum(mcp_server_sessions_closed_total)')) === summary.sessionsStarted ? true : undefined,
    );
    const at = Date.now() / 1000;
    const window = `[${Math.ceil(at - startedAt) + 2}s]`;

    // The shipped expressions over the whole run instead of 5 or 10 minutes: none returns a series.
    const evaluated: Record<string, number> = {};
    for (const rule of shippedRules().filter((r) => r.alert !== 'McpConnectionSpike')) {
      const expr = rule.expr.replace(/\[(5|10)m\]/g, window);
      expect(expr, rule.alert).not.toMatch(/\[\d+[mh]\]/);
      const result = await prom.query(expr, at);
      expect(result.status, rule.alert).toBe('success');
      evaluated[rule.alert ?? ''] = result.data?.result.length ?? -1;
    }
    expect(evaluated).toEqual({
      McpActiveSessionsHigh: 0,
      McpIdleTimeoutClosesSurging: 0,
      McpOperationErrorRatioHigh: 0,
      McpOperationLatencyHigh: 0,
      McpRejectedRequestsSurging: 0,
      McpUnsupportedProtocolVersion: 0,
      McpSessionAffinityBroken: 0,
      McpExporterDown: 0,
      McpUpstreamDown: 0,
    });
    // The error ratio stays under 5% with traffic above the rule's 0.1 operations/s floor, so the check above means something.
    const ops = `sum(rate(mcp_server_operation_duration_seconds_count{job="mcp-exporter"}${window}))`;
    expect(await prom.scalar(ops, at)).toBeGreaterThan(0.1);
    // Counted from the exporters' start (this is the first traffic they see): a rate would miss the
    // first error of each new error_type series, and a short run has only a few errors.
    const errorRatio = await prom.scalar('sum(mcp_server_operation_duration_seconds_count{job="mcp-exporter",error_type!=""}) / sum(mcp_server_operation_duration_seconds_count{job="mcp-exporter"})', at);
    expect(await prom.scalar('sum(mcp_server_operation_duration_seconds_count{job="mcp-exporter",error_type="tool_error"})', at)).toBe(summary.toolErrors);
    expect(errorRatio).toBeGreaterThan(0);
    expect(errorRatio).toBeLessThan(0.05);
    // The spike rule (loaded, time scaled down) never went pending on the mix. Its cold-start guard
    // matters at the shipped 1h:5m scale; prometheus/alerts.test.yml has that near miss.
    expect((await prom.query(`count_over_time(ALERTS${window})`, at)).data?.result).toEqual([]);
    expect(webhook.deliveries).toEqual([]);
  }, 40_000);

  it('a connection spike fires McpConnectionSpike, Alertmanager delivers it with what on-call needs, and it resolves when the spike ends', async () => {
    const isSpike = (status: string) => (p: WebhookPayload) => p.status === status && p.alerts.some((a) => a.labels.alertname === 'McpConnectionSpike');
    const firing = webhook.next(isSpike('firing'));
    const resolved = webhook.next(isSpike('resolved'));
    // A client in a reconnect loop: many short sessions, nothing else unusual.
    // The rule pages only once it has a full baseline behind it (20 s of history here, 65 minutes as shipped).
    await eventually('20 s of session history', async () => ((await prom.scalar('count(mcp_server_sessions_total{job="mcp-exporter"} offset 20s)')) ? true : undefined));
    const spike = runLoadgen(['--url', urls[0] ?? '', '--url', urls[1] ?? '', '--rate', '20', '--duration', '60', '--calls', '0', '--error-share', '0', '--idle-share', '0', '--drop-share', '0', '--client-names', 'reconnect-loop']);

    const fired = await firing;
    const labels = { alertname: 'McpConnectionSpike', job: 'mcp-exporter', severity: 'critical' };
    const annotations = {
      summary: 'MCP connection spike on mcp-exporter',
      description: expect.stringMatching(
        /^mcp-exporter is opening \d+\.\d\d new MCP sessions per second \(last 5m, all instances\), more than 3 times its rate over the hour before\.$/,
      ) as unknown as string,
      runbook_url: `${RUNBOOKS}#mcpconnectionspike`,
    };
    expect(fired).toMatchObject({ receiver: 'webhook', status: 'firing', version: '4', groupLabels: { alertname: 'McpConnectionSpike', job: 'mcp-exporter' }, commonLabels: labels });
    expect(fired.alerts.length).toBe(1);
    expect(fired.alerts[0]?.status).toBe('firing');
    expect(fired.alerts[0]?.labels).toEqual(labels);
    expect(fired.alerts[0]?.annotations).toEqual(annotations);
    expect(Number(/opening (\d+\.\d\d)/.exec(fired.alerts[0]?.annotations.description ?? '')?.[1])).toBeGreaterThan(1);

    // The spike ends: the reconnecting client stops.
    spike.stop();
    const summary = await spike.done;
    expect(summary.sessionsFailed).toBe(0);
    const ended = await resolved;
    expect(ended).toMatchObject({ receiver: 'webhook', status: 'resolved', commonLabels: labels });
    expect(ended.alerts.length).toBe(1);
    expect(ended.alerts[0]?.status).toBe('resolved');
    expect(ended.alerts[0]?.labels).toEqual(labels);
    expect(ended.alerts[0]?.annotations).toEqual(annotations);
    expect(ended.alerts[0]?.startsAt).toBe(fired.alerts[0]?.startsAt);
    expect(Date.parse(ended.alerts[0]?.endsAt ?? '')).toBeGreaterThan(Date.parse(ended.alerts[0]?.startsAt ?? ''));
    // Only the spike was ever delivered: the first firing, the resolution, nothing else.
    expect(webhook.deliveries.map((p) => `${p.status}:${p.alerts.map((a) => a.labels.alertname).join(',')}`)).toEqual([
      'firing:McpConnectionSpike',
      'resolved:McpConnectionSpike',
    ]);
  }, 60_000);
});
