/**
 * The dashboards are built from grafana/src/dashboards.ts (Grafana's Foundation SDK, the
 * metric names of src/metrics/names.ts): what the repository ships is exactly what that
 * builds, and every metric a panel queries is one the exporter serves. The queries' answers
 * are checked against a real Prometheus in test/e2e/prometheus.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildDashboards, dashboardText } from '../grafana/src/dashboards.js';
import { METRIC } from '../src/metrics/names.js';

const DIR = fileURLToPath(new URL('../grafana/dashboards/', import.meta.url));

describe('the shipped dashboards', () => {
  it('are what grafana/src/dashboards.ts builds (npm run dashboards writes them)', () => {
    const built = buildDashboards();
    expect(built.map((b) => b.file)).toEqual(['mcp-overview.json', 'mcp-process.json']);
    for (const { file, dashboard } of built) expect(readFileSync(join(DIR, file), 'utf8'), file).toBe(dashboardText(dashboard));
  });

  it("query only the exporter's metric families (and the process and scrape metrics)", () => {
    const families = new Set<string>(Object.values(METRIC));
    const queried = new Set<string>();
    for (const { dashboard } of buildDashboards()) {
      for (const panel of dashboard.panels ?? []) {
        for (const target of (panel as { targets?: { expr?: string }[] }).targets ?? []) {
          for (const [name = ''] of (target.expr ?? '').matchAll(/\bmcp_(?:server|exporter)_[a-z_]+/g)) queried.add(name.replace(/_(bucket|sum|count)$/, ''));
        }
      }
    }
    expect([...queried].filter((name) => !families.has(name))).toEqual([]);
    // Every family but build_info (a CLI info metric) has a panel.
    expect([...families].filter((name) => !queried.has(name)).sort()).toEqual([]);
  });
});
