/**
 * The package as a user gets it: `npm pack`, installed into a fresh project with the newest
 * SDK v1, zod 4, express 5 and strict TypeScript (skipLibCheck off), from the npm registry.
 * The examples are copied in as a user would write them (importing `mcp-exporter` by name),
 * type-checked, and run against a real SDK client.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcp-exporter-consumer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const npm = (args: string[], cwd = dir): string => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });

/** The newest OpenTelemetry SDK line that runs on this Node: 3.x wants Node >= 22.15. */
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const NEWEST_OTEL_SDK = major > 22 || (major === 22 && minor >= 15) ? 'latest' : '^2';

/**
 * With skipLibCheck off, the SDK's own declarations fail wherever its Ajv validator is
 * imported (the README's shared-validator snippet does); a project with the SDK alone gets
 * the same line. Anything else is ours.
 */
const SDK_OWN_ERRORS = ["node_modules/@modelcontextprotocol/sdk/dist/esm/validation/ajv-provider.d.ts(41,23): error TS2709: Cannot use namespace 'Ajv' as a type."];

/** tsc on the consumer project: its error lines (it emits the JavaScript either way). */
const typeCheck = (): string[] =>
  spawnSync(process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, encoding: 'utf8' })
    .stdout.split('\n')
    .filter((line) => line !== '');

/** Where the snippets come from: the README, then every document of docs/ by name. */
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

let tarball = '';
let packed: string[] = [];

beforeAll(() => {
  const [info] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], ROOT)) as { filename: string; files: { path: string }[] }[];
  if (!info) throw new Error('npm pack gave no tarball');
  tarball = join(dir, info.filename);
  packed = info.files.map((f) => f.path);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, skipLibCheck: false, outDir: 'out', types: ['node'] },
      include: ['*.ts'],
    }),
  );
  for (const file of ['express-sessions.ts', 'express-stateless.ts', 'express-auth.ts', 'stdio-server.ts']) copyFileSync(join(ROOT, 'examples', file), join(dir, file));
  for (const file of ['check-express.ts', 'listen-any.mjs']) copyFileSync(join(ROOT, 'test/fixtures/consumer', file), join(dir, file));
  // Every TypeScript snippet of the README and of docs/, as a file of its own, in the order of DOCS.
  DOCS.flatMap((file) => [...readFileSync(join(ROOT, file), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)]).forEach((block, i) =>
    writeFileSync(join(dir, `readme-${i + 1}.ts`), block[1] ?? ''),
  );
  npm(['install', tarball, '@modelcontextprotocol/sdk@latest', '@modelcontextprotocol/server@latest', 'zod@^4', 'express@^5', '@types/express@^5', '@types/node@^20', 'typescript@~5.9', 'prom-client@^15', `@opentelemetry/sdk-metrics@${NEWEST_OTEL_SDK}`]);
}, 240_000);

describe('the packed package in a fresh project', () => {
  it('ships its license, and source maps that carry their sources', () => {
    expect(packed).toContain('LICENSE');
    const maps = packed.filter((path) => path.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(0);
    const installed = join(dir, 'node_modules/mcp-exporter');
    const without = maps.filter((path) => {
      const map = JSON.parse(readFileSync(join(installed, path), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      return map.sourcesContent?.length !== map.sources.length || map.sourcesContent.some((text) => typeof text !== 'string');
    });
    expect(without).toEqual([]);
    // Types import only what the package depends on (or names as a peer): no @types/* a user may lack.
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; peerDependencies: Record<string, string> };
    const declared = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]);
    const imported = new Set(
      packed
        .filter((path) => path.endsWith('.d.ts'))
        .flatMap((path) => [...readFileSync(join(installed, path), 'utf8').matchAll(/from '([^'.][^']*)'/g)].map((m) => m[1] ?? ''))
        .filter((specifier) => !specifier.startsWith('node:'))
        .map((specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/')),
    );
    expect([...imported].filter((name) => !declared.has(name))).toEqual([]);
    const typed = (name: string): boolean => {
      const file = join(dir, 'node_modules', name, 'package.json');
      if (!existsSync(file)) return !(manifest.peerDependencies[name] === undefined);
      const text = readFileSync(file, 'utf8');
      return /"(types|typings)"\s*:/.test(text);
    };
    expect([...imported].filter((name) => !typed(name))).toEqual([]);
  });

  it('type-checks the examples and every snippet of the README and docs/ under strict TypeScript with skipLibCheck off, and npm ls is clean', () => {
    expect(readdirSync(dir).filter((f) => f.startsWith('readme-')).length).toBe(7);
    expect(typeCheck()).toEqual(SDK_OWN_ERRORS);
    const ls = spawnSync('npm', ['ls', '--all'], { cwd: dir, encoding: 'utf8' });
    expect(ls.status, ls.stdout + ls.stderr).toBe(0);
  });

  it('runs the express example against a real SDK client', () => {
    const run = node([join(dir, 'out/check-express.js')]);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      answer: { content: [{ type: 'text', text: 'from a fresh project' }] },
      sessions: ['mcp_server_sessions_total{transport="streamable_http",client_name="consumer"} 1', 'mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 1'],
      calls: ['mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25"} 1'],
    });
  });

  it('imports without loading what only the CLI needs, and require() works where Node can require ES modules', () => {
    writeFileSync(join(dir, 'hooks.mjs'), `export async function resolve(specifier, context, next) { const r = await next(specifier, context); process.stderr.write(r.url + '\\n'); return r; }\n`);
    writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module'; register('./hooks.mjs', import.meta.url);\n`);
    const loaded = node(['--import', './register.mjs', '--input-type=module', '-e', "const m = await import('mcp-exporter'); console.log(typeof m.McpMonitor)"]);
    expect(loaded.stdout).toBe('function\n');
    const packages = new Set(
      loaded.stderr
        .split('\n')
        .map((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1])
        .filter((name): name is string => name !== undefined),
    );
    // zod loads with the SDK itself (its types are zod schemas): the user's one copy, never a nested one of ours.
    // Beside prom-client, what loads is the SDK and what the SDK itself depends on (the user has those already).
    const sdk = JSON.parse(readFileSync(join(dir, 'node_modules/@modelcontextprotocol/sdk/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const expected = new Set(['mcp-exporter', 'prom-client', '@modelcontextprotocol/sdk', ...Object.keys(sdk.dependencies)]);
    expect([...packages].filter((name) => !expected.has(name))).toEqual([]);
    expect(packages.has('prom-client')).toBe(true);
    for (const cliOnly of ['express', 'pino', '@opentelemetry/exporter-prometheus', '@opentelemetry/exporter-metrics-otlp-http', '@opentelemetry/sdk-metrics']) {
      expect(packages.has(cliOnly), cliOnly).toBe(false);
    }
    expect(loaded.stderr).not.toContain('/node_modules/mcp-exporter/node_modules/');
    const required = node(['-e', "const m = require('mcp-exporter'); console.log(typeof m.McpMonitor, require('mcp-exporter/package.json').name)"]);
    expect(required.stdout + required.stderr).toBe('function mcp-exporter\n');
  });

  it('runs every snippet of the README and docs/: servers answer a real SDK client and show it in their metrics', async () => {
    /** Runs the compiled snippet until it has opened `listens` listeners (each on a free port), or until it exits. */
    const start = async (n: number, listens: number): Promise<{ ports: number[]; code: number | null; stop: () => Promise<void> }> => {
      const child = spawn(process.execPath, ['--import', './listen-any.mjs', join(dir, `out/readme-${n}.js`)], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
      const ports: number[] = [];
      let stderr = '';
      const exited = once(child, 'exit').then(([code]) => code as number | null);
      const listening = new Promise<void>((resolve) => {
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          stderr += chunk;
          for (const m of chunk.matchAll(/LISTEN (\d+)/g)) ports.push(Number(m[1]));
          if (listens > 0 && ports.length >= listens) resolve();
        });
      });
      const code = await Promise.race([exited, listening.then(() => null)]);
      if (code !== null) expect(stderr.replace(/LISTEN \d+\n/g, ''), `readme-${n}`).toBe('');
      return { ports, code, stop: async () => void (child.exitCode === null && (child.kill(), await exited)) };
    };
    const ping = async (port: number, path = '/mcp'): Promise<void> => {
      const client = new Client({ name: 'readme-client', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}${path}`)));
      await client.ping();
      await client.close();
    };
    const metrics = async (port: number, path = '/metrics') => (await fetch(`http://127.0.0.1:${port}${path}`)).text();
    const PING = 'mcp_server_operation_duration_seconds_count{mcp_method_name="ping",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1';
    const { Client } = await import(join(dir, 'node_modules/@modelcontextprotocol/sdk/dist/esm/client/index.js')) as typeof import('@modelcontextprotocol/sdk/client/index.js');
    const { StreamableHTTPClientTransport } = await import(join(dir, 'node_modules/@modelcontextprotocol/sdk/dist/esm/client/streamableHttp.js')) as typeof import('@modelcontextprotocol/sdk/client/streamableHttp.js');

    const SESSIONS = 'mcp_server_sessions_total{transport="streamable_http",client_name="readme-client"} 1';
    // 1 (README): the SDK README's stateless express server with the middleware and the admin routes.
    const stateless = await start(1, 1);
    await ping(stateless.ports[0] ?? 0);
    expect(await metrics(stateless.ports[0] ?? 0)).toContain(PING);
    await stateless.stop();
    // 2 (docs/library.md): the SDK README's express server with sessions in its own map.
    const sessions = await start(2, 1);
    await ping(sessions.ports[0] ?? 0);
    const sessionMetrics = await metrics(sessions.ports[0] ?? 0);
    expect(sessionMetrics).toContain(PING);
    expect(sessionMetrics).toContain(SESSIONS);
    await sessions.stop();
    // 3 and 4 run to their end: the hosted server closes itself; the shared validator only builds a factory.
    for (const n of [3, 4]) expect((await start(n, 0)).code, `readme-${n}`).toBe(0);
    // 5: an SDK v2 createMcpHandler behind monitor.nodeHandler.
    const v2 = await start(5, 1);
    await ping(v2.ports[0] ?? 0);
    expect(await metrics(v2.ports[0] ?? 0)).toContain(PING);
    await v2.stop();
    // 6: the hosted server with its admin routes on the user's express app, on a port of their own.
    const admin = await start(6, 2);
    await ping(admin.ports[0] ?? 0);
    expect(await metrics(admin.ports[1] ?? 0, '/admin/metrics')).toContain(PING);
    await admin.stop();
    // 7 (docs/opentelemetry.md): the hosted server on the user's own MeterProvider (no prom-client registry).
    const otel = await start(7, 1);
    await ping(otel.ports[0] ?? 0);
    await otel.stop();
  });

  it('works the same with prom-client 14: types and exposition', () => {
    npm(['install', 'prom-client@^14']);
    expect(typeCheck()).toEqual(SDK_OWN_ERRORS);
    const version = (JSON.parse(readFileSync(join(dir, 'node_modules/prom-client/package.json'), 'utf8')) as { version: string }).version;
    expect(version.startsWith('14.')).toBe(true);
    expect(existsSync(join(dir, 'node_modules/mcp-exporter/node_modules/prom-client'))).toBe(false);
    const run = node([join(dir, 'out/check-express.js')]);
    expect(run.stderr).toBe('');
    expect((JSON.parse(run.stdout) as { calls: string[] }).calls).toEqual([
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25"} 1',
    ]);
  }, 120_000);
});


/** Starts the installed CLI's serve on a free port; resolves with its /metrics text once it listens, then stops it. */
async function serveOnce(bin: string, cwd: string, args: string[]): Promise<string> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      const listening = /"mcp":"(http:\/\/[^"]+)\/mcp"/.exec(line);
      if (listening?.[1]) return await (await fetch(`${listening[1]}/metrics`)).text();
    }
    throw new Error('serve exited before it listened');
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

describe('the CLI installed as the Docker image installs it (the tarball, the pinned peers, no dev dependencies)', () => {
  const image = join(dir, 'image');
  beforeAll(() => {
    mkdirSync(image);
    writeFileSync(join(image, 'package.json'), JSON.stringify({ name: 'image', version: '1.0.0', private: true }));
    const peers = execFileSync(process.execPath, [join(ROOT, 'scripts/cli-peers.mjs')], { cwd: ROOT, encoding: 'utf8' }).trim().split(' ');
    npm(['install', '--omit=dev', tarball, ...peers], image);
  }, 240_000);

  it('serves with either metrics backend, and the loadgen answers --help', async () => {
    const bin = join(image, 'node_modules/mcp-exporter/dist/cli/main.js');
    expect(await serveOnce(bin, image, ['--metrics-backend', 'prom-client'])).toContain('\nmcp_server_requests_rejected_total{reason="parse_error"} 0\n');
    expect(await serveOnce(bin, image, ['--metrics-backend', 'otel'])).toContain(
      '\nmcp_server_requests_rejected_total{reason="parse_error",otel_scope_name="mcp-exporter",otel_scope_version="0.1.0"} 0\n',
    );
    const loadgen = spawnSync(process.execPath, [bin, 'loadgen', '--help'], { cwd: image, encoding: 'utf8' });
    expect([loadgen.status, loadgen.stdout.split('\n')[0]?.startsWith('usage: mcp-exporter loadgen')]).toEqual([0, true]);
  });

  it('says in one line what to install when the otel backend is asked for without the OpenTelemetry SDK', () => {
    // `npm install mcp-exporter` alone: the required peers come along, the optional OpenTelemetry SDK does not.
    const minimal = join(dir, 'minimal');
    mkdirSync(minimal);
    writeFileSync(join(minimal, 'package.json'), JSON.stringify({ name: 'minimal', version: '1.0.0', private: true }));
    npm(['install', tarball], minimal);
    expect(existsSync(join(minimal, 'node_modules/@opentelemetry/sdk-metrics'))).toBe(false);
    const run = spawnSync(process.execPath, [join(minimal, 'node_modules/mcp-exporter/dist/cli/main.js'), 'serve', '--port', '0', '--metrics-backend', 'otel'], { cwd: minimal, encoding: 'utf8' });
    expect([run.status, run.stderr]).toEqual([
      2,
      'mcp-exporter: --metrics-backend otel needs @opentelemetry/sdk-metrics, @opentelemetry/resources, @opentelemetry/exporter-prometheus installed beside mcp-exporter (npm install @opentelemetry/sdk-metrics @opentelemetry/resources @opentelemetry/exporter-prometheus)\n',
    ]);
  });
});

// The tarball must be what `npm pack` makes from a build: fail loudly when dist is missing.
if (!existsSync(join(ROOT, 'dist/index.js')) || readdirSync(join(ROOT, 'dist')).length === 0) throw new Error('build first: npm run build');
