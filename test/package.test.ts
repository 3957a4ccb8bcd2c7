/**
 * The packages as users get them, from the npm registry into fresh projects:
 * - the library (`npm pack`), in a project with the newest SDK v1 and v2, zod 4, express 5
 *   and strict TypeScript (skipLibCheck off): the examples and every snippet of the docs,
 *   copied in as a user would write them (importing `mcp-exporter` by name), type-checked
 *   and run against real SDK clients;
 * - the library in the projects users have: one SDK line or the other, each line of the
 *   OpenTelemetry SDK, prom-client 14 or 15: what it adds, and that npm installs it cleanly;
 * - the CLI package (`npm pack ./cli`), installed as the Docker image and `npx` install it.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
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
/** The Prometheus exporter of that line. */
const NEWEST_OTEL_PROMETHEUS = NEWEST_OTEL_SDK === 'latest' ? 'latest' : '>=0.200.0 <0.300.0';

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
  npm(['install', tarball, '@modelcontextprotocol/sdk@latest', '@modelcontextprotocol/server@latest', 'zod@^4', 'express@^5', '@types/express@^5', '@types/node@^20', 'typescript@~5.9', 'prom-client@^15', `@opentelemetry/sdk-metrics@${NEWEST_OTEL_SDK}`, `@opentelemetry/exporter-prometheus@${NEWEST_OTEL_PROMETHEUS}`]);
}, 240_000);

describe('the packed package in a fresh project', () => {
  it('ships its license, and source maps that carry their sources', () => {
    expect(packed).toContain('LICENSE');
    // The library, without the CLI's parts; every module it ships imports only modules it ships.
    expect(packed.filter((path) => /^dist\/(cli|proxy|loadgen|demo)\//.test(path))).toEqual([]);
    const shipped = new Set(packed);
    const unresolved = packed
      .filter((path) => path.endsWith('.js') || path.endsWith('.d.ts'))
      .flatMap((path) =>
        [...readFileSync(join(ROOT, path), 'utf8').matchAll(/(?:from|import)\s*'(\.{1,2}\/[^']+)'/g)].map((m) => posix.join(posix.dirname(path), (m[1] ?? '').replace(/\.js$/, path.endsWith('.d.ts') ? '.d.ts' : '.js'))),
      )
      .filter((target) => !shipped.has(target));
    expect(unresolved).toEqual([]);
    const maps = packed.filter((path) => path.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(0);
    const installed = join(dir, 'node_modules/mcp-exporter');
    const without = maps.filter((path) => {
      const map = JSON.parse(readFileSync(join(installed, path), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      return map.sourcesContent?.length !== map.sources.length || map.sourcesContent.some((text) => typeof text !== 'string');
    });
    expect(without).toEqual([]);
    // Types import only what the package depends on (or names as a peer): no @types/* a user may lack.
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; peerDependencies: Record<string, string> };
    expect(manifest.dependencies).toBeUndefined();
    const declared = new Set(Object.keys(manifest.peerDependencies));
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
    expect(readdirSync(dir).filter((f) => f.startsWith('readme-')).length).toBe(8);
    expect(typeCheck()).toEqual(SDK_OWN_ERRORS);
    const ls = spawnSync('npm', ['ls', '--all'], { cwd: dir, encoding: 'utf8' });
    expect(ls.status, ls.stdout + ls.stderr).toBe(0);
    // tsc over every snippet takes about 15 s here: the default 20 s left no room for a slow minute.
  }, 120_000);

  it('runs the express example against a real SDK client', () => {
    const run = node([join(dir, 'out/check-express.js')]);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      answer: { content: [{ type: 'text', text: 'from a fresh project' }] },
      sessions: ['mcp_server_sessions_total{transport="streamable_http",client_name="consumer"} 1', 'mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 1'],
      calls: ['mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25"} 1'],
    });
  });

  it('imports without loading any MCP SDK or what only the CLI needs, and require() works where Node can require ES modules', () => {
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
    // The root entry loads prom-client (and what prom-client itself loads), no MCP SDK, nothing of the CLI.
    const prom = JSON.parse(readFileSync(join(dir, 'node_modules/prom-client/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const expected = new Set(['mcp-exporter', 'prom-client', ...Object.keys(prom.dependencies)]);
    expect([...packages].filter((name) => !expected.has(name))).toEqual([]);
    expect(packages.has('prom-client')).toBe(true);
    // mcp-exporter/sdk-v1 loads the SDK v1 the project has.
    const hosted = node(['--import', './register.mjs', '--input-type=module', '-e', "const m = await import('mcp-exporter/sdk-v1'); console.log(typeof m.startMonitoredServer)"]);
    expect(hosted.stdout).toBe('function\n');
    expect(hosted.stderr).toContain('/node_modules/@modelcontextprotocol/sdk/');
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
    // 8 (docs/opentelemetry.md): the user's own Prometheus exporter on the monitor's /metrics route.
    const exporter = await start(8, 1);
    expect((await metrics(exporter.ports[0] ?? 0)).split('\n').filter((line) => line.startsWith('mcp_server_requests_rejected_total{reason="parse_error"'))).toEqual([
      'mcp_server_requests_rejected_total{reason="parse_error",otel_scope_name="mcp-exporter",otel_scope_version="0.1.0"} 0',
    ]);
    await exporter.stop();
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


/** The bytes of every file under a folder (what a project's node_modules weighs). */
function weight(folder: string): number {
  let bytes = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true, recursive: true })) if (entry.isFile()) bytes += statSync(join(entry.parentPath, entry.name)).size;
  return bytes;
}

/** The packages of a project's node_modules, by name (scoped ones as @scope/name). */
function installedPackages(project: string): Set<string> {
  const modules = join(project, 'node_modules');
  return new Set(
    readdirSync(modules)
      .filter((name) => !name.startsWith('.'))
      .flatMap((name) => (name.startsWith('@') ? readdirSync(join(modules, name)).map((inner) => `${name}/${inner}`) : [name])),
  );
}

/**
 * A fresh project with `dependencies` from the registry, then the library's tarball: what
 * the tarball added (packages, bytes), and whether `npm ls` is clean afterwards.
 */
function projectWithLibrary(name: string, dependencies: string[]): { project: string; added: string[]; addedBytes: number; lsStatus: number | null; lsErrors: string } {
  const project = join(dir, name);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }));
  npm(['install', ...dependencies], project);
  const before = installedPackages(project);
  const bytes = weight(join(project, 'node_modules'));
  npm(['install', tarball], project);
  const added = [...installedPackages(project)].filter((p) => !before.has(p)).sort();
  const ls = spawnSync('npm', ['ls', '--all'], { cwd: project, encoding: 'utf8' });
  return { project, added, addedBytes: weight(join(project, 'node_modules')) - bytes, lsStatus: ls.status, lsErrors: ls.stderr };
}

const MB = 1024 * 1024;
/** Monitors a refused request through the project's own OpenTelemetry SDK line (test/fixtures/consumer/check-otel.mjs). */
function checkOtel(project: string): unknown {
  copyFileSync(join(ROOT, 'test/fixtures/consumer/check-otel.mjs'), join(project, 'check-otel.mjs'));
  const run = spawnSync(process.execPath, ['check-otel.mjs'], { cwd: project, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout);
}
const REFUSED = 'mcp_server_requests_rejected_total{error_type="parse_error",otel_scope_name="mcp-exporter",otel_scope_version="0.1.0"} 1';

describe('what the library adds to the projects users have', () => {
  it('an SDK v1 project with zod 4, express 5 and the OpenTelemetry SDK 2.x: prom-client and itself, under 5 MB, no SDK v2, no CLI dependency', () => {
    const { project, added, addedBytes, lsStatus, lsErrors } = projectWithLibrary('v1-otel2', [
      '@modelcontextprotocol/sdk@latest', 'zod@^4', 'express@^5', '@opentelemetry/sdk-metrics@^2', '@opentelemetry/resources@^2', '@opentelemetry/exporter-prometheus@>=0.200.0 <0.300.0',
    ]);
    expect([lsStatus, lsErrors]).toEqual([0, '']);
    expect(added).toEqual(['bintrees', 'mcp-exporter', 'prom-client', 'tdigest']);
    expect(addedBytes).toBeLessThan(5 * MB);
    expect(checkOtel(project)).toEqual({ status: 400, rejected: [REFUSED] });
  }, 240_000);

  it('an SDK v2 project: under 5 MB, no SDK v1; strict types without it, a v2 client over HTTP and over stdio', () => {
    const { project, added, addedBytes, lsStatus, lsErrors } = projectWithLibrary('v2', ['@modelcontextprotocol/server@latest', '@modelcontextprotocol/node@latest', 'zod@^4']);
    expect([lsStatus, lsErrors]).toEqual([0, '']);
    expect(added).toEqual(['@opentelemetry/api', 'bintrees', 'mcp-exporter', 'prom-client', 'tdigest']);
    expect(addedBytes).toBeLessThan(5 * MB);
    // The client, and TypeScript, for the check itself.
    npm(['install', '@modelcontextprotocol/client@latest', 'typescript@~5.9', '@types/node@^20'], project);
    expect(existsSync(join(project, 'node_modules/@modelcontextprotocol/sdk'))).toBe(false);
    copyFileSync(join(ROOT, 'test/fixtures/consumer/check-v2.ts'), join(project, 'check-v2.ts'));
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, skipLibCheck: false, outDir: 'out', types: ['node'] }, include: ['*.ts'] }),
    );
    const tsc = spawnSync(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: project, encoding: 'utf8' });
    expect(tsc.stdout).toBe('');
    const run = spawnSync(process.execPath, ['out/check-v2.js'], { cwd: project, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      answer: { content: [{ type: 'text', text: 'from a v2 project' }] },
      stdioAnswer: { content: [{ type: 'text', text: 'over stdio' }] },
      calls: ['mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25"} 1'],
    });
  }, 240_000);

  it.each([
    {
      title: 'the OpenTelemetry SDK 1.x (as older instrumentations bring it), prom-client 14 and the SDK v1',
      name: 'otel1',
      dependencies: ['@opentelemetry/sdk-node@^0.57', '@opentelemetry/sdk-metrics@^1', '@opentelemetry/exporter-prometheus@^0.57', 'prom-client@^14', '@modelcontextprotocol/sdk@latest', 'zod@^4'],
      line: /^1\./,
      // The 1.x exporter adds no scope labels.
      refused: 'mcp_server_requests_rejected_total{error_type="parse_error"} 1',
    },
    {
      title: 'the OpenTelemetry SDK 3.x, prom-client 15 and the SDK v2',
      name: 'otel3',
      dependencies: ['@opentelemetry/sdk-metrics@^3', '@opentelemetry/resources@^3', '@opentelemetry/exporter-prometheus@latest', 'prom-client@^15', '@modelcontextprotocol/server@latest', 'zod@^4'],
      line: /^3\./,
      refused: REFUSED,
    },
  ])('$title: npm ls clean, only itself added, the monitor records through that MeterProvider', ({ name, dependencies, line, refused }) => {
    const { project, added, lsStatus, lsErrors } = projectWithLibrary(name, dependencies);
    expect([lsStatus, lsErrors]).toEqual([0, '']);
    expect(added).toEqual(['mcp-exporter']);
    expect((JSON.parse(readFileSync(join(project, 'node_modules/@opentelemetry/sdk-metrics/package.json'), 'utf8')) as { version: string }).version).toMatch(line);
    expect(checkOtel(project)).toEqual({ status: 400, rejected: [refused] });
  }, 240_000);
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

describe('the CLI package, installed as the Docker image installs it (its tarball unpacked, npm ci, no dev dependencies)', () => {
  const image = join(dir, 'image');
  let cliTarball = '';
  beforeAll(() => {
    const [info] = JSON.parse(npm(['pack', './cli', '--json', '--pack-destination', dir], ROOT).replace(/^[^[]*/, '')) as { filename: string; files: { path: string }[] }[];
    if (!info) throw new Error('npm pack ./cli gave no tarball');
    cliTarball = join(dir, info.filename);
    expect(info.files.map((f) => f.path)).toContain('npm-shrinkwrap.json');
    mkdirSync(image);
    execFileSync('tar', ['-xzf', cliTarball, '--strip-components=1', '-C', image]);
    npm(['ci', '--omit=dev'], image);
  }, 240_000);

  it('serves with either metrics backend, and the loadgen answers --help', async () => {
    const bin = join(image, 'dist/cli/main.js');
    expect(await serveOnce(bin, image, ['--metrics-backend', 'prom-client'])).toContain('\nmcp_server_requests_rejected_total{reason="parse_error"} 0\n');
    expect(await serveOnce(bin, image, ['--metrics-backend', 'otel'])).toContain(
      '\nmcp_server_requests_rejected_total{reason="parse_error",otel_scope_name="mcp-exporter",otel_scope_version="0.1.0"} 0\n',
    );
    const loadgen = spawnSync(process.execPath, [bin, 'loadgen', '--help'], { cwd: image, encoding: 'utf8' });
    expect([loadgen.status, loadgen.stdout.split('\n')[0]?.startsWith('usage: mcp-exporter loadgen')]).toEqual([0, true]);
  });

  it('installs every package at the version the repository locks and tests, nothing else', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    const shrinkwrap = JSON.parse(readFileSync(join(ROOT, 'cli/npm-shrinkwrap.json'), 'utf8')) as { packages: Record<string, { version?: string; dev?: boolean }> };
    const pinned = Object.entries(shrinkwrap.packages).filter(([path]) => path !== '');
    // The shrinkwrap is the repository's lockfile, cut down to what the CLI needs.
    expect(pinned.filter(([path, entry]) => entry.dev === true || lock.packages[path]?.version !== entry.version).map(([path]) => path)).toEqual([]);
    // The image has exactly those packages, at those versions.
    const installed = readdirSync(join(image, 'node_modules'), { recursive: true, encoding: 'utf8' })
      .filter((path) => path.endsWith('package.json') && /^(?:(?:@[^/]+\/)?[^/@][^/]*\/node_modules\/)*(?:@[^/]+\/)?[^/@][^/]*\/package\.json$/.test(path))
      .map((path) => [`node_modules/${path.slice(0, -'/package.json'.length)}`, (JSON.parse(readFileSync(join(image, 'node_modules', path), 'utf8')) as { version: string }).version] as const)
      .sort(([a], [b]) => a.localeCompare(b));
    expect(installed).toEqual(pinned.map(([path, entry]) => [path, entry.version] as const).sort(([a], [b]) => a.localeCompare(b)));
  });

  it('is the same version as the library, with the command as its bin and the repository\'s versions as its dependencies', () => {
    const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string>; bin?: unknown };
    const cli = JSON.parse(readFileSync(join(image, 'package.json'), 'utf8')) as { name: string; version: string; bin: Record<string, string>; dependencies: Record<string, string> };
    expect([cli.name, cli.version, cli.bin, root.bin]).toEqual(['mcp-exporter-cli', root.version, { 'mcp-exporter': 'dist/cli/main.js' }, undefined]);
    expect(Object.entries(cli.dependencies).filter(([name, range]) => root.devDependencies[name] !== range)).toEqual([]);
  });

  it('runs with one command outside a clone, as npx runs it', () => {
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    const run = spawnSync('npm', ['exec', '--yes', `--package=${cliTarball}`, '--', 'mcp-exporter', '--version'], { cwd: elsewhere, encoding: 'utf8' });
    expect([run.status, run.stdout]).toEqual([0, `mcp-exporter ${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`]);
  }, 120_000);
});

// The tarball must be what `npm pack` makes from a build: fail loudly when dist is missing.
if (!existsSync(join(ROOT, 'dist/index.js')) || readdirSync(join(ROOT, 'dist')).length === 0) throw new Error('build first: npm run build');
