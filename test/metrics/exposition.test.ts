import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { OPENMETRICS_TEXT, PROMETHEUS_TEXT, promClientRenderer, toOpenMetrics, wantsOpenMetrics } from '../../src/metrics/exposition.js';

/** What Prometheus 2.x/3.x sends when scraping. */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** A registry with one of each: counter x_total with labels, counter y, a gauge, a histogram. */
function sampleRegistry(): Registry {
  const registry = new Registry();
  const registers = [registry];
  const x = new Counter({ name: 'x_total', help: 'X things.', labelNames: ['method', 'code'], registers });
  x.inc({ method: 'get', code: '200' }, 3);
  x.inc({ method: 'post', code: '500' });
  new Counter({ name: 'y', help: 'Y without suffix.', registers }).inc(2);
  new Gauge({ name: 'temp_celsius', help: 'A gauge.', labelNames: ['room'], registers }).set({ room: 'a' }, 21.5);
  new Histogram({ name: 'lat_seconds', help: 'A histogram.', buckets: [0.1, 1], labelNames: ['path'], registers }).observe({ path: '/' }, 0.5);
  return registry;
}

const TEXT = [
  '# HELP x_total X things.',
  '# TYPE x_total counter',
  'x_total{method="get",code="200"} 3',
  'x_total{method="post",code="500"} 1',
  '',
  '# HELP y Y without suffix.',
  '# TYPE y counter',
  'y 2',
  '',
  '# HELP temp_celsius A gauge.',
  '# TYPE temp_celsius gauge',
  'temp_celsius{room="a"} 21.5',
  '',
  '# HELP lat_seconds A histogram.',
  '# TYPE lat_seconds histogram',
  'lat_seconds_bucket{le="0.1",path="/"} 0',
  'lat_seconds_bucket{le="1",path="/"} 1',
  'lat_seconds_bucket{le="+Inf",path="/"} 1',
  'lat_seconds_sum{path="/"} 0.5',
  'lat_seconds_count{path="/"} 1',
  '',
].join('\n');

const OPENMETRICS = [
  '# HELP x X things.',
  '# TYPE x counter',
  'x_total{method="get",code="200"} 3',
  'x_total{method="post",code="500"} 1',
  '# HELP y Y without suffix.',
  '# TYPE y counter',
  'y_total 2',
  '# HELP temp_celsius A gauge.',
  '# TYPE temp_celsius gauge',
  'temp_celsius{room="a"} 21.5',
  '# HELP lat_seconds A histogram.',
  '# TYPE lat_seconds histogram',
  'lat_seconds_bucket{le="0.1",path="/"} 0',
  'lat_seconds_bucket{le="1",path="/"} 1',
  'lat_seconds_bucket{le="+Inf",path="/"} 1',
  'lat_seconds_sum{path="/"} 0.5',
  'lat_seconds_count{path="/"} 1',
  '# EOF',
  '',
].join('\n');

describe('toOpenMetrics', () => {
  it('the registry renders the text format this test expects', async () => {
    expect(await sampleRegistry().metrics()).toBe(TEXT);
  });

  it('rewrites a real prom-client exposition as OpenMetrics 1.0', async () => {
    expect(toOpenMetrics(await sampleRegistry().metrics())).toBe(OPENMETRICS);
  });

  it('keeps HELP text with several spaces as it is', () => {
    const text = '# HELP a_total Counts  things, twice  spaced.\n# TYPE a_total counter\na_total 1\n';
    expect(toOpenMetrics(text)).toBe('# HELP a Counts  things, twice  spaced.\n# TYPE a counter\na_total 1\n# EOF\n');
  });

  it('does not rename a gauge that ends in _total', () => {
    const text = '# HELP g_total A gauge.\n# TYPE g_total gauge\ng_total 4\n';
    expect(toOpenMetrics(text)).toBe('# HELP g_total A gauge.\n# TYPE g_total gauge\ng_total 4\n# EOF\n');
  });

  it('turns an empty exposition into just # EOF', () => {
    expect(toOpenMetrics('')).toBe('# EOF\n');
  });
});

describe('wantsOpenMetrics', () => {
  it.each<[string | undefined, boolean]>([
    [undefined, false],
    ['', false],
    ['text/plain', false],
    ['text/plain;version=0.0.4', false],
    ['*/*', false],
    ['application/openmetrics-text', true],
    ['application/openmetrics-text; version=1.0.0', true],
    [PROMETHEUS_ACCEPT, true],
  ])('%j -> %s', (accept, expected) => {
    expect(wantsOpenMetrics(accept)).toBe(expected);
  });
});

describe('promClientRenderer', () => {
  it('gives text 0.0.4 by default', async () => {
    const render = promClientRenderer(sampleRegistry());
    expect(await render(undefined)).toEqual({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: TEXT });
    expect(await render('text/plain')).toEqual({ contentType: PROMETHEUS_TEXT, body: TEXT });
    expect(PROMETHEUS_TEXT).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('gives OpenMetrics when the Accept header asks for it', async () => {
    const render = promClientRenderer(sampleRegistry());
    expect(await render('application/openmetrics-text; version=1.0.0')).toEqual({
      contentType: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
      body: OPENMETRICS,
    });
    expect(await render(PROMETHEUS_ACCEPT)).toEqual({ contentType: OPENMETRICS_TEXT, body: OPENMETRICS });
    expect(OPENMETRICS_TEXT).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
  });

  it('rendering OpenMetrics does not change the next text rendering', async () => {
    const registry = sampleRegistry();
    const render = promClientRenderer(registry);
    const before = await render(undefined);
    await render('application/openmetrics-text; version=1.0.0');
    await render('application/openmetrics-text; version=1.0.0');
    expect(await render(undefined)).toEqual(before);
    expect(await registry.metrics()).toBe(TEXT);
    expect(registry.contentType).toBe(PROMETHEUS_TEXT);
  });

  it('shows later changes to the registry', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'z_total', help: 'Z.', registers: [registry] });
    const render = promClientRenderer(registry);
    expect((await render(undefined)).body).toBe('# HELP z_total Z.\n# TYPE z_total counter\nz_total 0\n');
    counter.inc(5);
    expect((await render(undefined)).body).toBe('# HELP z_total Z.\n# TYPE z_total counter\nz_total 5\n');
    expect((await render('application/openmetrics-text')).body).toBe('# HELP z Z.\n# TYPE z counter\nz_total 5\n# EOF\n');
  });
});
