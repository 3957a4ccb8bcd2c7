import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { LoadGenerator, type LoadSummary } from '../../src/loadgen/load-generator.js';
import { useCliProcesses } from '../cli-process.js';
import { eventually, requirePrometheus, useMonitoringProcesses, type PrometheusHandle } from '../prometheus-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { start } = useCliProcesses('file');
const monitoring = useMonitoringProcesses();

/** Starts `mcp-exporter serve` and resolves with its MCP URL once it listens. */
const startExporter = async (args: string[]): Promise<string> => (await start(['serve', ...args])).url;

let prom: PrometheusHandle;
const query = (expr: string, time?: number) => prom.query(expr, time);
const scalar = (expr: string) => prom.scalar(expr);

interface Panel {
  title?: string;
  type?: string;
  targets?: { expr?: string; refId?: string }[];
  panels?: Panel[];
}

interface TemplateVariable {
  name: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  query?: string;
}

interface DashboardQuery {
  dashboard: string;
  panel: string;
  /** Which values the variables got: a single job, or All. */
  variables: string;
  expr: string;
}

/**
 * What Grafana sends for a multi-value variable set to All when it has no allValue: every
 * value its query finds, regex-escaped, as one alternation. So All is the exporter's own
 * jobs and instances, not every job of a shared Prometheus.
 */
const grafanaAll = (values: readonly string[]): string => `(${values.map((v) => v.replace(/[\\^$.*+?()[\]{}|]/g, '\\\\$&')).join('|')})`;

/** A `label_values(selector, label)` variable query, answered by Prometheus as Grafana asks it (the series API). */
async function labelValues(query: string, job: string): Promise<string[]> {
  const match = /^label_values\((.+), (\w+)\)$/.exec(query);
  if (!match) throw new Error(`not a label_values query: ${query}`);
  const [, selector = '', label = ''] = match;
  const res = await fetch(`${prom.url}/api/v1/series?match[]=${encodeURIComponent(fillVariables(selector, job, '.+'))}`);
  const body = (await res.json()) as { data: Record<string, string>[] };
  return [...new Set(body.data.map((series) => series[label] ?? ''))].filter((v) => v !== '').sort();
}

/** The dashboards' job and instance variables: multi-select with All and no allValue, each with its query. */
function variablesOf(dashboard: { templating: { list: TemplateVariable[] } }, file: string): { job: string; instance: string } {
  const query = (name: string): string => {
    const variable = dashboard.templating.list.find((v) => v.name === name);
    if (!variable?.multi || !variable.includeAll || variable.allValue !== undefined || !variable.query) {
      throw new Error(`${file}: variable ${name} must be multi-select with includeAll, no allValue (All is then its own values), and a query`);
    }
    return variable.query;
  };
  return { job: query('job'), instance: query('instance') };
}

/**
 * Every PromQL expression of every panel of every dashboard, with Grafana's variables filled
 * in twice: `job` set to the scrape job, and `job` set to All (as Grafana sends it: the
 * values the variable's query finds); `instance` is All both times.
 */
async function dashboardQueries(): Promise<DashboardQuery[]> {
  const dir = join(ROOT, 'grafana/dashboards');
  const out: DashboardQuery[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { title: string; panels: Panel[]; templating: { list: TemplateVariable[] } };
    const queries = variablesOf(dashboard, file);
    const allJobs = grafanaAll(await labelValues(queries.job, '.+'));
    const choices: { variables: string; job: string; instance: string }[] = [];
    for (const [variables, job] of [
      ['job=mcp-exporter', 'mcp-exporter'],
      ['job=All', allJobs],
    ] as const) {
      choices.push({ variables, job, instance: grafanaAll(await labelValues(queries.instance, job)) });
    }
    const walk = (panels: Panel[]): void => {
      for (const panel of panels) {
        for (const target of panel.targets ?? []) {
          if (!target.expr) continue;
          for (const { variables, job, instance } of choices) {
            out.push({ dashboard: dashboard.title, panel: panel.title ?? '(untitled)', variables, expr: fillVariables(target.expr, job, instance) });
          }
        }
        walk(panel.panels ?? []);
      }
    };
    walk(dashboard.panels);
  }
  return out;
}

/** Fills in the variables as Grafana does; a multi-value variable only works behind =~. */
function fillVariables(expr: string, job: string, instance: string): string {
  const single = /[^=!]=\s*"\$\{?(job|instance)/.exec(expr);
  if (single) throw new Error(`"$${single[1]}" is a multi-value variable: match it with =~, not =: ${expr}`);
  return expr
    .replace(/\$\{?job\}?/g, job)
    .replace(/\$\{?instance(?::[a-z]+)?\}?/g, instance)
    .replace(/\$__rate_interval/g, '10s')
    .replace(/\$__interval/g, '2s')
    .replace(/\$__range/g, '5m');
}

interface AlertRule {
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

function alertRules(): AlertRule[] {
  const doc = parseYaml(readFileSync(join(ROOT, 'prometheus/alerts.yml'), 'utf8')) as { groups: { rules: (Partial<AlertRule> & { expr: string })[] }[] };
  return doc.groups.flatMap((group) =>
    group.rules.filter((rule) => rule.alert).map((rule) => ({ alert: rule.alert ?? '', expr: rule.expr, labels: rule.labels ?? {}, annotations: rule.annotations ?? {} })),
  );
}

/** The anchors GitHub gives a Markdown file's headings: lower case, spaces to -, other punctuation dropped. */
function githubAnchors(markdown: string): string[] {
  return [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => (m[1] ?? '').trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'));
}

describe('end to end with a real Prometheus', () => {
  let summary: LoadSummary;
  /** A moment inside the traffic (epoch seconds), where rate() windows see it. */
  let duringTraffic = 0;

  beforeAll(async () => {
    const urls = await Promise.all([startExporter(['--session-idle-timeout', '2']), startExporter(['--session-idle-timeout', '2'])]);
    // A proxy in front of a third server (not scraped, no traffic): the panels of the server behind a proxy have their data.
    const behind = await startExporter([]);
    const proxy = await start(['proxy', '--upstream', behind]);
    const targets = [...urls.map((url) => new URL(url).host), new URL(proxy.adminUrl).host];
    prom = await monitoring.prometheus(
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'rule_files:',
        `  - ${join(ROOT, 'prometheus/alerts.yml')}`,
        'scrape_configs:',
        '  - job_name: mcp-exporter',
        '    static_configs:',
        `      - targets: [${targets.map((t) => `"${t}"`).join(', ')}]`,
        // A job of another kind in the same Prometheus: the dashboards' All must leave it out.
        '  - job_name: prometheus',
        '    static_configs:',
        `      - targets: ["__PROMETHEUS__"]`,
        '',
      ].join('\n'),
    );

    // Prometheus scrapes its first round a few seconds after it is ready: start the traffic once both targets are up.
    await eventually('both exporters and the proxy scraped', async () => ((await scalar('count(up{job="mcp-exporter"} == 1)')) === 3 ? true : undefined));
    const generator = new LoadGenerator({
      urls,
      rate: 20,
      callsPerSession: 3,
      errorShare: 0.2,
      idleShare: 0.15,
      dropShare: 0.1,
      durationSeconds: 0,
      maxSessions: 60,
      concurrency: 20,
      seed: 7,
      clientNames: ['claude-desktop', 'cursor', 'vscode'],
      modernShare: 0.3,
      listenShare: 0.5,
    });
    summary = await generator.run();
    // A second after the traffic, a 10 s rate() window holds several scrapes of it.
    duringTraffic = Date.now() / 1000 + 1;
    // Idle and dropped sessions end by the servers' 2 s idle timeout; wait until Prometheus has seen it all.
    await eventually(
      'every session closed and scraped',
      async () => ((await scalar('sum(mcp_server_sessions_closed_total)')) === summary.sessionsStarted ? true : undefined),
    );
    await eventually(
      'the dropped calls recorded and scraped',
      async () =>
        (await scalar('sum(mcp_server_operation_duration_seconds_count{gen_ai_tool_name="sleep"})')) === (summary.perUrl[urls[0] ?? '']?.byTool.sleep ?? 0) + (summary.perUrl[urls[1] ?? '']?.byTool.sleep ?? 0)
          ? true
          : undefined,
    );
    await eventually('every rule evaluated once', async () => {
      const rules = (await (await fetch(`${prom.url}/api/v1/rules`)).json()) as { data: { groups: { rules: { health: string }[] }[] } };
      const all = rules.data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((r) => r.health !== 'unknown') ? true : undefined;
    });
  }, 90_000);

  it('the sums across both instances equal what loadgen did', async () => {
    // Both eras: 2025 sessions, and clients of 2026-07-28 whose requests stand alone.
    expect(summary.sessionsStarted + summary.modernClients).toBe(60);
    expect(summary.sessionsStarted).toBeGreaterThan(30);
    expect(summary.modernClients).toBeGreaterThan(5);
    expect(summary.listens).toBeGreaterThan(0);
    expect(summary.sessionsFailed).toBe(0);
    const byTool = (tool: string) => Object.values(summary.perUrl).reduce((sum, counts) => sum + (counts.byTool[tool] ?? 0), 0);
    expect(await scalar('sum(mcp_server_sessions_total)')).toBe(summary.sessionsStarted);
    expect(await scalar('sum(mcp_server_sessions_active)')).toBe(0);
    expect(await scalar('count(count by (instance) (mcp_server_sessions_total))')).toBe(2);
    expect(await scalar('sum(mcp_server_sessions_closed_total{reason="client_delete"})')).toBe(summary.deleted);
    expect(await scalar('sum(mcp_server_sessions_closed_total{reason="idle_timeout"})')).toBe(summary.idled + summary.dropped);
    expect(await scalar('sum(mcp_server_session_duration_seconds_count)')).toBe(summary.sessionsStarted);
    expect(await scalar('sum(mcp_server_operation_duration_seconds_count{mcp_method_name="initialize"})')).toBe(summary.sessionsStarted);
    expect(await scalar('sum(mcp_server_operation_duration_seconds_count{gen_ai_tool_name="echo"})')).toBe(byTool('echo'));
    expect(await scalar('sum(mcp_server_operation_duration_seconds_count{gen_ai_tool_name="fail",error_type="tool_error"})')).toBe(summary.toolErrors);
    expect(await scalar('sum(mcp_server_operation_duration_seconds_count{gen_ai_tool_name="sleep",error_type="_OTHER"})')).toBe(summary.dropped);
    expect(await scalar('sum(mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call"})')).toBe(summary.calls);
    expect(await scalar('sum(mcp_server_operation_duration_seconds_count{mcp_method_name="server/discover",mcp_protocol_version="2026-07-28"})')).toBe(summary.modernClients);
    expect(await scalar('sum(mcp_server_subscriptions_total)')).toBe(summary.listens);
    expect(await scalar('sum(mcp_server_subscriptions_active)')).toBe(0);
    expect(await scalar('sum(mcp_server_subscription_duration_seconds_count{reason="client_delete"})')).toBe(summary.listens);
    // Every request is counted by its client: the operations, and the listen streams.
    expect(await scalar('sum(mcp_server_client_requests_total) - sum(mcp_server_operation_duration_seconds_count)')).toBe(summary.listens);
  });

  /** Sends every dashboard query at `time`; failures as lines. */
  async function checkDashboards(time: number, mustHaveData: boolean): Promise<string[]> {
    const queries = await dashboardQueries();
    expect(queries.length).toBeGreaterThanOrEqual(40);
    const failures: string[] = [];
    for (const { dashboard, panel, variables, expr } of queries) {
      const where = `${dashboard} / ${panel} (${variables})`;
      const result = await query(expr, time);
      const samples = result.data?.result ?? [];
      if (result.status !== 'success') failures.push(`${where}: ${result.error ?? 'error'}: ${expr}`);
      else if (mustHaveData && samples.length === 0) failures.push(`${where}: no data: ${expr}`);
      // A method, tool or reason without traffic in the window drops out: never a NaN row.
      const nan = samples.filter((s) => Number.isNaN(Number(s.value[1])));
      if (nan.length > 0) failures.push(`${where}: ${nan.length} NaN of ${samples.length}: ${expr}`);
    }
    return failures;
  }

  it("All in the dashboards' variables means the exporter's jobs and instances only, in a Prometheus that scrapes another job too", async () => {
    expect(await scalar('count(up == 1)')).toBe(4);
    const queries = await dashboardQueries();
    const at = (panel: string, variables: string): string => queries.find((q) => q.panel === panel && q.variables === variables)?.expr ?? '';
    // 'Instances up' counts the two exporters and the proxy, not Prometheus itself.
    expect(await scalar(at('Instances up', 'job=All'))).toBe(3);
    // 'Resident memory' with All is the exporters' memory, the same as for their one job.
    expect(await scalar(at('Resident memory (all instances)', 'job=All'))).toBe(await scalar(at('Resident memory (all instances)', 'job=mcp-exporter')));
    expect(await scalar('sum(process_resident_memory_bytes{job="prometheus"})')).toBeGreaterThan(0);
  });

  it('every dashboard query parses and returns data during the traffic, no sample NaN, for one job and for All', async () => {
    expect(await checkDashboards(duringTraffic, true)).toEqual([]);
  });

  it('no dashboard query returns NaN once the traffic has stopped (every series still there, every rate 0)', async () => {
    const quiet = await eventually('a 10 s window without traffic', async () => {
      const moving = await scalar('sum(rate(mcp_server_operation_duration_seconds_count[10s])) + sum(rate(mcp_server_sessions_closed_total[10s]))');
      return moving === 0 ? Date.now() / 1000 : undefined;
    });
    expect(await scalar('count(mcp_server_operation_duration_seconds_count)')).toBeGreaterThan(10);
    expect(await checkDashboards(quiet, false)).toEqual([]);
  }, 40_000);

  it('every alert rule expression parses', async () => {
    const rules = alertRules();
    expect(rules.length).toBeGreaterThanOrEqual(7);
    const failures: string[] = [];
    for (const { alert, expr } of rules) {
      const result = await query(expr);
      if (result.status !== 'success') failures.push(`${alert}: ${result.error ?? 'error'}`);
    }
    expect(failures).toEqual([]);
    // Prometheus loaded the same rules and evaluates them without error.
    const loaded = (await (await fetch(`${prom.url}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const health = loaded.data.groups.flatMap((g) => g.rules).map((r) => `${r.name}:${r.health}${r.lastError ? `:${r.lastError}` : ''}`);
    expect(health.sort()).toEqual(rules.map((r) => `${r.alert}:ok`).sort());
  });
});

describe('alert annotations', () => {
  it('every alert has a severity, a summary, a description and a runbook_url to its own section of docs/runbooks.md', () => {
    const anchors = githubAnchors(readFileSync(join(ROOT, 'docs/runbooks.md'), 'utf8'));
    const rules = alertRules();
    expect(rules.length).toBeGreaterThanOrEqual(8);
    for (const { alert, labels, annotations } of rules) {
      expect(Object.keys(labels), alert).toEqual(['severity']);
      expect(Object.keys(annotations).sort(), alert).toEqual(['description', 'runbook_url', 'summary']);
      expect(annotations.runbook_url, alert).toBe(`https://github.com/mcp-exporter/mcp-exporter/blob/main/docs/runbooks.md#${alert.toLowerCase()}`);
      expect(anchors, `docs/runbooks.md has a heading "${alert}"`).toContain(alert.toLowerCase());
    }
  });
});

describe('promtool', () => {
  it('checks the alert rules and the compose Prometheus config', () => {
    requirePrometheus();
    const rules = spawnSync('promtool', ['check', 'rules', join(ROOT, 'prometheus/alerts.yml')], { encoding: 'utf8' });
    expect({ status: rules.status, stderr: rules.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('passes the alert rule unit tests, one firing case and one near miss per alert', () => {
    requirePrometheus();
    const result = spawnSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: join(ROOT, 'prometheus'), encoding: 'utf8' });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    const tests = parseYaml(readFileSync(join(ROOT, 'prometheus/alerts.test.yml'), 'utf8')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
    };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const { alert } of alertRules()) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(mine.some((c) => (c.exp_alerts?.length ?? 0) > 0), `${alert} fires somewhere`).toBe(true);
      expect(mine.some((c) => (c.exp_alerts?.length ?? 0) === 0), `${alert} has a near miss`).toBe(true);
    }
  });
});
