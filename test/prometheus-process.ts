import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { parse as parseYaml } from 'yaml';

/** An alerting rule of prometheus/alerts.yml. */
export interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The alerting rules the project ships (prometheus/alerts.yml), every group's. */
export function shippedRules(): Rule[] {
  const file = fileURLToPath(new URL('../prometheus/alerts.yml', import.meta.url));
  const doc = parseYaml(readFileSync(file, 'utf8')) as { groups: { rules: Rule[] }[] };
  return doc.groups.flatMap((g) => g.rules).filter((r) => r.alert);
}

/** Fails with what to install when a Debian binary the e2e tests run is missing. */
export function requireTools(tools: readonly string[], debianPackage: string): void {
  for (const tool of tools) {
    if (spawnSync(tool, ['--version']).error) {
      throw new Error(`${tool} not found: install the Debian package "${debianPackage}" (apt-get install -y ${debianPackage}), as .ci/run does`);
    }
  }
}

export const requirePrometheus = (): void => requireTools(['prometheus', 'promtool'], 'prometheus');
export const requireAlertmanager = (): void => requireTools(['prometheus-alertmanager', 'amtool'], 'prometheus-alertmanager');

/** A free TCP port on 127.0.0.1, for binaries that cannot listen on port 0 and report it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a value (not undefined); fails after `ms`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: PromSample[] };
}

/** A running Prometheus and its HTTP API. */
export interface PrometheusHandle {
  url: string;
  child: ChildProcess;
  /** An instant query, at `time` (epoch seconds) or now. */
  query(expr: string, time?: number): Promise<PromResult>;
  /** The first sample's value, or undefined when the query returns nothing. */
  scalar(expr: string, time?: number): Promise<number | undefined>;
}

/** A running Alertmanager. */
export interface AlertmanagerHandle {
  url: string;
  /** host:port, as Prometheus's alerting config wants it. */
  address: string;
  child: ChildProcess;
}

async function ready(url: string, child: ChildProcess, name: string, output: () => string): Promise<void> {
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  await eventually(`${name} to be ready`, async () => {
    if (exited !== undefined) throw new Error(`${name} exited with ${exited}: ${output().slice(-2000)}`);
    const res = await fetch(`${url}/-/ready`).catch(() => undefined);
    return res?.ok ? true : undefined;
  });
}

/**
 * Runs the real Prometheus and Alertmanager binaries for a test file: each in a temporary
 * directory, on a free port, killed after the file's tests.
 */
export function useMonitoringProcesses(): {
  /** The file's temporary directory (created in beforeAll). */
  dir: () => string;
  /** Writes `config` as prometheus.yml (`__PROMETHEUS__` is its own address) and starts Prometheus on it. */
  prometheus: (config: string, extraArgs?: string[]) => Promise<PrometheusHandle>;
  /** Writes `config` as alertmanager.yml and starts Alertmanager on it, clustering off. */
  alertmanager: (config: string) => Promise<AlertmanagerHandle>;
} {
  const children: ChildProcess[] = [];
  let workDir = '';
  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'mcp-exporter-monitoring-'));
  });
  afterAll(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  const run = (command: string, args: string[]): { child: ChildProcess; output: () => string } => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-20_000)));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-20_000)));
    return { child, output: () => output };
  };

  const prometheus = async (config: string, extraArgs: string[] = []): Promise<PrometheusHandle> => {
    requirePrometheus();
    requireWorkDir(workDir);
    const port = await freePort();
    const file = join(workDir, 'prometheus.yml');
    // `__PROMETHEUS__` in the config is Prometheus's own address (a job that scrapes itself).
    writeFileSync(file, config.replaceAll('__PROMETHEUS__', `127.0.0.1:${port}`));
    const url = `http://127.0.0.1:${port}`;
    const { child, output } = run('prometheus', [
      `--config.file=${file}`,
      `--storage.tsdb.path=${join(workDir, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      ...extraArgs,
    ]);
    await ready(url, child, 'Prometheus', output);
    const query = async (expr: string, time?: number): Promise<PromResult> => {
      const at = time === undefined ? '' : `&time=${time}`;
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}${at}`);
      return (await res.json()) as PromResult;
    };
    const scalar = async (expr: string, time?: number): Promise<number | undefined> => {
      const value = (await query(expr, time)).data?.result[0]?.value[1];
      return value === undefined ? undefined : Number(value);
    };
    return { url, child, query, scalar };
  };

  const alertmanager = async (config: string): Promise<AlertmanagerHandle> => {
    requireAlertmanager();
    requireWorkDir(workDir);
    const port = await freePort();
    const file = join(workDir, 'alertmanager.yml');
    writeFileSync(file, config);
    const address = `127.0.0.1:${port}`;
    const url = `http://${address}`;
    const { child, output } = run('prometheus-alertmanager', [
      `--config.file=${file}`,
      `--storage.path=${join(workDir, 'alertmanager-data')}`,
      `--web.listen-address=${address}`,
      // No gossip: one Alertmanager, and no second port to find.
      '--cluster.listen-address=',
    ]);
    await ready(url, child, 'Alertmanager', output);
    return { url, address, child };
  };

  return { dir: () => workDir, prometheus, alertmanager };
}

function requireWorkDir(dir: string): void {
  if (!dir) throw new Error('useMonitoringProcesses: start processes from a hook or test, after its beforeAll');
}
