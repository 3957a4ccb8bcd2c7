/**
 * The compose stack runs a newer Prometheus than the tests can (Debian's, which runs every
 * query and alert in test/e2e/prometheus.test.ts): every dashboard query and every rule
 * expression must also parse under the PromQL grammar of the Prometheus the stack pins
 * (`@prometheus-io/lezer-promql`, which Prometheus publishes for each release of its own),
 * where functions were renamed or removed (holt_winters) between the lines.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The syntax errors of an expression under the grammar: each as the text it covers. */
function syntaxErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`${node.from}: ${expr.slice(Math.max(0, node.from - 10), node.to + 10)}`);
    },
  });
  return errors;
}

/** Grafana's variables, filled in as it sends them. */
const filled = (expr: string): string =>
  expr
    .replace(/\$\{?job\}?/g, 'mcp-exporter')
    .replace(/\$\{?instance(?::[a-z]+)?\}?/g, '.+')
    .replace(/\$__(rate_interval|interval|range)/g, '1m');

function dashboardExpressions(): { where: string; expr: string }[] {
  const dir = join(ROOT, 'grafana/dashboards');
  const out: { where: string; expr: string }[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    type Panel = { title?: string; targets?: { expr?: string }[]; panels?: Panel[] };
    const walk = (panels: Panel[]): void => {
      for (const panel of panels) {
        for (const target of panel.targets ?? []) if (target.expr) out.push({ where: `${file}: ${panel.title ?? ''}`, expr: filled(target.expr) });
        walk(panel.panels ?? []);
      }
    };
    walk((JSON.parse(readFileSync(join(dir, file), 'utf8')) as { panels: Panel[] }).panels);
  }
  return out;
}

function ruleExpressions(): { where: string; expr: string }[] {
  const doc = parseYaml(readFileSync(join(ROOT, 'prometheus/alerts.yml'), 'utf8')) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };
  return doc.groups.flatMap((group) => group.rules.map((rule) => ({ where: rule.alert ?? rule.record ?? '', expr: rule.expr })));
}

describe('the PromQL of the dashboards and alert rules under the grammar of the Prometheus the compose stack pins', () => {
  it('is the grammar of that release', () => {
    const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { image?: string }> };
    const [, major = '', minor = '', patch = ''] = /^prom\/prometheus:v(\d+)\.(\d+)\.(\d+)@sha256:[0-9a-f]{64}$/.exec(compose.services.prometheus?.image ?? '') ?? [];
    const grammar = JSON.parse(readFileSync(join(ROOT, 'node_modules/@prometheus-io/lezer-promql/package.json'), 'utf8')) as { version: string };
    // Prometheus 3.15.0 publishes its grammar as 0.315.0.
    expect(grammar.version).toBe(`0.${major}${minor.padStart(2, '0')}.${patch}`);
  });

  it('finds what the newer line refuses (a removed function, an unclosed call)', () => {
    expect(syntaxErrors('holt_winters(mcp_server_sessions_active[5m], 0.5, 0.5)').length).toBeGreaterThan(0);
    expect(syntaxErrors('rate(mcp_server_sessions_total[5m]').length).toBeGreaterThan(0);
    expect(syntaxErrors('sum by (le) (rate(mcp_server_operation_duration_seconds_bucket{job=~"(a|b)"}[5m]))')).toEqual([]);
  });

  it('parses every query of every dashboard panel', () => {
    const queries = dashboardExpressions();
    expect(queries.length).toBeGreaterThan(40);
    expect(queries.map(({ where, expr }) => ({ where, errors: syntaxErrors(expr) })).filter((q) => q.errors.length > 0)).toEqual([]);
  });

  it('parses every alert rule', () => {
    const rules = ruleExpressions();
    expect(rules.length).toBeGreaterThan(8);
    expect(rules.map(({ where, expr }) => ({ where, errors: syntaxErrors(expr) })).filter((r) => r.errors.length > 0)).toEqual([]);
  });
});
