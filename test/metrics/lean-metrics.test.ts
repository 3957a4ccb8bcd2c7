import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LeanCounter, LeanHistogram } from '../../src/metrics/lean-metrics.js';

type Op = 'method' | 'tool' | 'error' | 'version';
const BUCKETS = [0.01, 0.1, 1];
const OBSERVATIONS: [string, string, string, string, number][] = [
  ['tools/call', 'echo', '', '2025-11-25', 0.01], // on a bound: in that bucket
  ['tools/call', 'echo', '', '2025-11-25', 0.5],
  ['tools/list', '', '', '2025-11-25', 0.002],
  ['tools/call', 'echo', 'tool_error', '2026-07-28', 3], // above every bound: +Inf only
  ['tools/call', 'echo', '', '2025-11-25', 0.05],
];

/** The same observations in prom-client's own Histogram and in LeanHistogram, each in a registry of its own. */
function histograms(): { stock: Registry; lean: Registry; leanMetric: LeanHistogram<Op> } {
  const stock = new Registry();
  const lean = new Registry();
  const config = { name: 'op_seconds', help: 'Operations.', labelNames: ['method', 'tool', 'error', 'version'] as Op[], buckets: BUCKETS };
  const stockMetric = new Histogram({ ...config, registers: [stock] });
  const leanMetric = new LeanHistogram({ ...config, registers: [lean] });
  for (const [method, tool, error, version, value] of OBSERVATIONS) {
    stockMetric.observe({ method, tool, error, version }, value);
    leanMetric.record(method, tool, error, version, value);
  }
  return { stock, lean, leanMetric };
}

describe('LeanHistogram', () => {
  it('writes exactly the exposition prom-client writes for the same observations', async () => {
    const { stock, lean } = histograms();
    const text = await lean.metrics();
    expect(text).toBe(await stock.metrics());
    expect(text).toContain('op_seconds_bucket{le="0.01",method="tools/call",tool="echo",error="",version="2025-11-25"} 1\n');
    expect(text).toContain('op_seconds_bucket{le="0.1",method="tools/call",tool="echo",error="",version="2025-11-25"} 2\n');
    expect(text).toContain('op_seconds_bucket{le="1",method="tools/call",tool="echo",error="tool_error",version="2026-07-28"} 0\n');
    expect(text).toContain('op_seconds_count{method="tools/call",tool="echo",error="tool_error",version="2026-07-28"} 1\n');
    expect(text).toContain('op_seconds_sum{method="tools/call",tool="echo",error="",version="2025-11-25"} 0.56\n');
  });

  it('gives the JSON prom-client gives', async () => {
    const { stock, lean } = histograms();
    expect(await lean.getMetricsAsJSON()).toEqual(await stock.getMetricsAsJSON());
  });

  it('forgets its series on reset, as the registry asks', async () => {
    const { lean, leanMetric } = histograms();
    lean.resetMetrics();
    expect(await lean.metrics()).toBe('# HELP op_seconds Operations.\n# TYPE op_seconds histogram\n');
    leanMetric.record('ping', '', '', '2025-11-25', 0.001);
    expect(await lean.metrics()).toContain('op_seconds_count{method="ping",tool="",error="",version="2025-11-25"} 1\n');
  });
});

describe('LeanCounter', () => {
  it('writes exactly the exposition and JSON prom-client writes', async () => {
    const stock = new Registry();
    const lean = new Registry();
    const config = { name: 'client_requests_total', help: 'Requests.', labelNames: ['client', 'version'] as ('client' | 'version')[] };
    const stockMetric = new Counter({ ...config, registers: [stock] });
    const leanMetric = new LeanCounter({ ...config, registers: [lean] });
    for (const [client, version] of [['claude', '2025-11-25'], ['cursor', '2025-11-25'], ['claude', '2025-11-25'], ['claude', '2026-07-28']]) {
      stockMetric.inc({ client, version });
      leanMetric.add(client as string, version as string);
    }
    const text = await lean.metrics();
    expect(text).toBe(await stock.metrics());
    expect(text).toBe(
      '# HELP client_requests_total Requests.\n# TYPE client_requests_total counter\n' +
        'client_requests_total{client="claude",version="2025-11-25"} 2\n' +
        'client_requests_total{client="cursor",version="2025-11-25"} 1\n' +
        'client_requests_total{client="claude",version="2026-07-28"} 1\n',
    );
    expect(await lean.getMetricsAsJSON()).toEqual(await stock.getMetricsAsJSON());
    lean.resetMetrics();
    expect(await lean.metrics()).toBe('# HELP client_requests_total Requests.\n# TYPE client_requests_total counter\n');
  });
});
