import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { useCliProcesses } from '../cli-process.js';

// No Docker engine runs here: the stack is checked by reading it, file against file.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string): unknown => parseYaml(readFileSync(join(ROOT, path), 'utf8'));

interface Service {
  networks?: Record<string, { ipv4_address?: string }>;
  build?: string;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: string[] | Record<string, unknown>;
  healthcheck?: { test: string[] };
}
const compose = read('docker-compose.yml') as { services: Record<string, Service>; networks?: { default?: { ipam?: { config?: { subnet: string }[] } } } };
const { start } = useCliProcesses();
const services = compose.services;

/** The port a service listens on inside its container, from its command or its image's default. */
function containerPort(name: string): number {
  const service = services[name];
  if (!service) throw new Error(`no service ${name}`);
  const command = service.command ?? [];
  const flag = command.indexOf('--port');
  if (flag >= 0) return Number(command[flag + 1]);
  // The load balancer listens where deploy/haproxy/haproxy.cfg binds.
  const haproxy = Number(/^\s*bind :(\d+)$/m.exec(readFileSync(join(ROOT, 'deploy/haproxy/haproxy.cfg'), 'utf8'))?.[1]);
  const defaults: Record<string, number> = { prometheus: 9090, alertmanager: 9093, grafana: 3000, haproxy, jaeger: 16686 };
  const image = (service.image ?? '').split('/').pop()?.split(':')[0] ?? '';
  const port = defaults[image];
  if (port === undefined) throw new Error(`no known port for ${name}`);
  return port;
}

function expectTarget(target: string): void {
  const [host = '', port = ''] = target.split(':');
  expect(Object.keys(services), `${target}: no such service`).toContain(host);
  expect(containerPort(host), `${target}: ${host} listens elsewhere`).toBe(Number(port));
}

describe('docker-compose stack', () => {
  it('has the services the operator view needs', () => {
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'exporter-1', 'exporter-2', 'grafana', 'jaeger', 'load-balancer', 'loadgen', 'prometheus']);
  });

  it("sends the exporters' spans to Jaeger, and links Grafana's exemplars to it", () => {
    // Jaeger v2 takes OTLP/HTTP on 4318; its UI and query API (Grafana's datasource) on 16686.
    for (const name of ['exporter-1', 'exporter-2']) expect(services[name]?.environment?.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, name).toBe('http://jaeger:4318/v1/traces');
    const datasources = read('grafana/provisioning/datasources/prometheus.yml') as {
      datasources: { type: string; uid: string; url: string; jsonData?: { exemplarTraceIdDestinations?: { name: string; datasourceUid: string }[] } }[];
    };
    const jaeger = datasources.datasources.find((d) => d.type === 'jaeger');
    expect(jaeger?.url).toBe('http://jaeger:16686');
    expectTarget(new URL(jaeger?.url ?? '').host);
    const prometheus = datasources.datasources.find((d) => d.type === 'prometheus');
    // The exemplars' label is trace_id (src/metrics/exemplars.ts writes it so).
    expect(prometheus?.jsonData?.exemplarTraceIdDestinations).toEqual([{ name: 'trace_id', datasourceUid: jaeger?.uid }]);
  });

  it('puts the load balancer in front of the replicas with the shipped HAProxy configuration, and the replicas trust its address', () => {
    const balancer = services['load-balancer'];
    expect(balancer?.volumes).toEqual(['./deploy/haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro']);
    const config = readFileSync(join(ROOT, 'deploy/haproxy/haproxy.cfg'), 'utf8');
    const servers = [...config.matchAll(/^\s*server \S+ (\S+)$/gm)].map((m) => m[1] ?? '');
    expect(servers).toEqual(['exporter-1:3000', 'exporter-2:3000']);
    servers.forEach(expectTarget);
    // Its fixed address is in the network's subnet, and each replica trusts exactly it.
    const address = balancer?.networks?.default?.ipv4_address ?? '';
    const subnet = compose.networks?.default?.ipam?.config?.[0]?.subnet ?? '';
    expect(subnet).toMatch(/^\d+\.\d+\.\d+\.0\/24$/);
    expect(address.split('.').slice(0, 3)).toEqual(subnet.split('.').slice(0, 3));
    for (const name of ['exporter-1', 'exporter-2']) expect(services[name]?.environment?.MCP_TRUST_PROXY, name).toBe(address);
  });

  it('mounts only files and folders that exist', () => {
    const mounts = Object.entries(services).flatMap(([name, s]) => (s.volumes ?? []).map((v) => [name, v.split(':')[0] ?? ''] as const));
    expect(mounts.length).toBeGreaterThanOrEqual(4);
    for (const [name, host] of mounts) expect(existsSync(join(ROOT, host)), `${name} mounts ${host}`).toBe(true);
  });

  it('builds the exporter and loadgen from this repository, with a Dockerfile whose sources exist', () => {
    for (const name of ['exporter-1', 'exporter-2', 'loadgen']) expect(services[name]?.build).toBe('.');
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const copies = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] ?? '').split(' '));
    expect(copies).toEqual(['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'LICENSE', 'README.md', 'src', 'grafana', 'prometheus', 'scripts', 'cli']);
    for (const source of copies) expect(existsSync(join(ROOT, source)), source).toBe(true);
    // Each source reaches the build context: .dockerignore (the last pattern that matches wins) keeps none of them out.
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'))
      .map((line) => ({ keep: line.startsWith('!'), path: line.replace(/^!/, ''), pattern: new RegExp(`^${line.replace(/^!/, '').replace(/[.]/g, '\\.').replace(/\*/g, '[^/]*')}(/|$)`) }));
    // A folder is in it when it is kept, or when a file in it is let in.
    const inContext = (path: string): boolean =>
      ignore.reduce((kept, rule) => (rule.pattern.test(path) ? rule.keep : kept), true) || ignore.some((rule) => rule.keep && rule.path.startsWith(`${path}/`));
    expect(copies.filter((source) => !inContext(source))).toEqual([]);
    for (const file of ['cli/package.json', 'cli/npm-shrinkwrap.json', 'src/index.ts', 'scripts/stage-cli.mjs']) expect(inContext(file), file).toBe(true);
    for (const file of ['node_modules', 'dist', 'cli/dist', '.git', 'test']) expect(inContext(file), file).toBe(false);
    expect(dockerfile).toContain('CMD ["mcp-exporter", "serve", "--host", "0.0.0.0"]');
  });

  it('publishes each port once, to the port the container listens on', () => {
    const published = Object.entries(services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => {
        const [host = '', inside = ''] = p.split(':');
        expect(Number(inside), `${name} publishes ${p}`).toBe(containerPort(name));
        return host;
      }),
    );
    expect(new Set(published).size).toBe(published.length);
  });

  it('scrapes, alerts and drives load at services that exist, on their ports', () => {
    const prometheus = read('prometheus/prometheus.yml') as {
      rule_files: string[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const scrape = prometheus.scrape_configs.find((c) => c.job_name === 'mcp-exporter');
    const targets = scrape?.static_configs.flatMap((c) => c.targets) ?? [];
    expect(targets).toEqual(['exporter-1:3000', 'exporter-2:3000']);
    targets.forEach(expectTarget);
    prometheus.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets)).forEach(expectTarget);
    for (const file of prometheus.rule_files) expect(existsSync(join(ROOT, 'prometheus', file)), file).toBe(true);

    const loadgen = services.loadgen?.command ?? [];
    const urls = loadgen.flatMap((arg, i) => (loadgen[i - 1] === '--url' ? [arg] : []));
    expect(urls).toEqual(['http://load-balancer:8080/mcp']);
    urls.forEach((url) => expectTarget(new URL(url).host));
  });

  it('provisions Grafana with the Prometheus service and the mounted dashboards', () => {
    const datasources = read('grafana/provisioning/datasources/prometheus.yml') as { datasources: { type: string; url: string; uid: string }[] };
    const prom = datasources.datasources.find((d) => d.type === 'prometheus');
    expect(prom?.url).toBe('http://prometheus:9090');
    expectTarget(new URL(prom?.url ?? '').host);
    const providers = read('grafana/provisioning/dashboards/mcp-exporter.yml') as { providers: { options: { path: string } }[] };
    const mount = (services.grafana?.volumes ?? []).find((v) => v.startsWith('./grafana/dashboards:'));
    expect(mount?.split(':')[1]).toBe(providers.providers[0]?.options.path);
  });

  it('dashboards use the datasource variable, units on every panel and $__rate_interval in every rate', () => {
    for (const file of ['grafana/dashboards/mcp-overview.json', 'grafana/dashboards/mcp-process.json']) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      expect(text, file).not.toContain('${DS_');
      const dashboard = JSON.parse(text) as {
        uid: string;
        templating: { list: { name: string; type: string }[] };
        panels: { id: number; type: string; title: string; datasource: { uid: string }; fieldConfig: { defaults: { unit?: string } }; targets: { expr: string }[] }[];
      };
      expect(dashboard.templating.list.map((v) => `${v.name}:${v.type}`).slice(0, 3)).toEqual(['datasource:datasource', 'job:query', 'instance:query']);
      expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
      // Rows only group panels: they query nothing.
      for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
        expect(panel.datasource.uid, panel.title).toBe('${datasource}');
        expect(panel.fieldConfig.defaults.unit, `${panel.title} has a unit`).toBeTruthy();
        for (const { expr } of panel.targets) {
          for (const range of expr.matchAll(/\[([^\]]+)\]/g)) expect(range[1], `${panel.title}: ${expr}`).toBe('$__rate_interval');
          expect(expr, `${panel.title} selects job and instance`).toMatch(/job=~"\$job",instance=~"\$instance"/);
        }
      }
    }
  });

  it('checks the exporters through /-/ready, which stays healthy when an admin token is required', async () => {
    const exporter = await start(['serve'], { MCP_ADMIN_TOKEN: 'compose-secret' });
    const port = new URL(exporter.url).port;
    expect((await fetch(`${exporter.adminUrl}/metrics`)).status).toBe(401);
    for (const name of ['exporter-1', 'exporter-2']) {
      const test = services[name]?.healthcheck?.test ?? [];
      expect(test.slice(0, 3), name).toEqual(['CMD', 'node', '-e']);
      expect(test[3], name).toContain('http://127.0.0.1:3000/-/ready');
      // The command as the container runs it, pointed at this exporter's port.
      const probe = spawnSync(process.execPath, ['-e', (test[3] ?? '').replace(':3000/', `:${port}/`)], { encoding: 'utf8', timeout: 10_000 });
      expect({ name, status: probe.status }).toEqual({ name, status: 0 });
    }
  });

  it('runs on a Node.js LTS image, every image pinned by version and digest, with a HEALTHCHECK on /-/ready', async () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1] ?? '';
    expect(nodeImage).toMatch(/^node:(24|26)\.\d+\.\d+-slim@sha256:[0-9a-f]{64}$/);
    expect([...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])).toEqual(['${NODE_IMAGE}', '${NODE_IMAGE}']);
    for (const [name, service] of Object.entries(services)) {
      if (service.image === 'mcp-exporter:local') continue;
      expect(service.image, name).toMatch(/^[\w./-]+:v?\d+\.\d+\.\d+(-[a-z0-9.]+)?@sha256:[0-9a-f]{64}$/);
    }
    // The HEALTHCHECK as the container runs it: ready answers 0, a server that is gone 1.
    const check = /^HEALTHCHECK .*\\\n\s+CMD \["node", "-e", (".*")\]$/m.exec(dockerfile)?.[1];
    expect(check).toBeDefined();
    const script = JSON.parse(check ?? '""') as string;
    const exporter = await start(['serve'], { MCP_ADMIN_TOKEN: 'image-secret' });
    const port = new URL(exporter.url).port;
    const probe = (): number | null => spawnSync(process.execPath, ['-e', script], { env: { ...process.env, MCP_PORT: port }, timeout: 10_000 }).status;
    expect(probe()).toBe(0);
    exporter.child.kill('SIGTERM');
    await exporter.exited;
    expect(probe()).toBe(1);
  });
});
