/**
 * The storm measures, in the bench's own process: a tracker with a backend's monitors,
 * the history and an event stream with one live subscriber, driven directly (no HTTP),
 * so the time and memory are the tracking core's alone.
 */
import { createServer, get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { ConnectionHistory } from '../src/core/history.js';
import { SessionTracker } from '../src/core/session-tracker.js';
import type { ConnectionMonitor } from '../src/core/types.js';
import { ConnectionEventStream } from '../src/http/event-stream.js';
import { OtelMonitor } from '../src/metrics/otel-monitor.js';
import { createPrometheusReader } from '../src/cli/otel-prometheus.js';
import { prometheusViews } from '../src/metrics/otel-views.js';
import { PromClientMonitor } from '../src/metrics/prom-client-monitor.js';
import { median } from './stats.js';

export type Backend = 'prom-client' | 'otel';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** A tracker with the backend's monitors, the history and an event stream with one live subscriber. */
async function stormRig(backend: Backend) {
  const tracker = new SessionTracker();
  const monitors: ConnectionMonitor[] = [new ConnectionHistory(1000)];
  if (backend === 'prom-client') monitors.push(new PromClientMonitor(new Registry()));
  else monitors.push(new OtelMonitor({ meterProvider: new MeterProvider({ readers: [createPrometheusReader()], views: prometheusViews() }) }));
  const events = new ConnectionEventStream({ tracker });
  monitors.push(events);
  for (const monitor of monitors) tracker.subscribe(monitor);
  // One live subscriber, so the event work is done, not skipped.
  const http = createServer((req, res) => events.subscribe(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  const subscriber = await new Promise<IncomingMessage>((resolve) =>
    get({ host: '127.0.0.1', port: (http.address() as AddressInfo).port, path: '/' }, resolve),
  );
  subscriber.resume();
  return {
    tracker,
    close: async () => {
      events.close();
      subscriber.destroy();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const start = (i: number) => ({
  id: i.toString(16).padStart(12, '0'),
  clientIP: '203.0.113.0',
  userAgent: 'node',
  transport: 'streamable_http' as const,
  clientName: `client-${i % 50}`,
  clientVersion: '1.0.0',
  protocolVersion: '2025-06-18',
});

/**
 * CPU time of `n` sessions established, then closed. The loop yields every 100 sessions,
 * as a storm arriving over HTTP does, so the event stream's socket drains as it would.
 */
export async function stormCpuMs(n: number, backend: Backend): Promise<number> {
  const rig = await stormRig(backend);
  gc();
  const began = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    rig.tracker.establish(start(i));
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
  for (let i = 0; i < n; i++) {
    rig.tracker.close(start(i).id, 'client_delete');
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
  const used = process.cpuUsage(began);
  await rig.close();
  return (used.user + used.system) / 1000;
}

/** Heap held per open session by the tracker and its monitors, after GC. */
export async function trackerHeapPerSession(n: number, backend: Backend): Promise<number> {
  const rig = await stormRig(backend);
  for (let i = 0; i < 100; i++) rig.tracker.establish(start(n + i)); // label series and code paths exist before the baseline
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) {
    rig.tracker.establish(start(i));
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
  // Let the subscriber read what the events wrote, so socket buffers are not counted.
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  await rig.close();
  return (after - before) / n;
}

/**
 * How the cost per session grows from a storm of `small` sessions to one of `large`:
 * 1 is linear, below 1 is cheaper per session at scale. Medians of 7 runs each, after 3
 * of each to warm up (JIT, label series).
 */
export async function stormScaling(small: number, large: number, backend: Backend, log: (line: string) => void): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await stormCpuMs(small, backend);
    await stormCpuMs(large, backend);
  }
  const smallRuns: number[] = [];
  const largeRuns: number[] = [];
  for (let i = 0; i < 7; i++) {
    smallRuns.push(await stormCpuMs(small, backend));
    largeRuns.push(await stormCpuMs(large, backend));
  }
  log(`  storm ${backend}: ${small} sessions ${median(smallRuns).toFixed(1)} ms CPU, ${large} sessions ${median(largeRuns).toFixed(1)} ms CPU (medians of 7)`);
  return median(largeRuns) / median(smallRuns) / (large / small);
}
