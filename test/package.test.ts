/**
 * The package as a user gets it: `npm pack`, installed into a fresh project with the newest
 * SDK v1, zod 4, express 5 and strict TypeScript (skipLibCheck off), from the npm registry.
 * The examples are copied in as a user would write them (importing `mcp-exporter` by name),
 * type-checked, and run against a real SDK client.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcp-exporter-consumer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const npm = (args: string[], cwd = dir): string => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });

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
  copyFileSync(join(ROOT, 'test/fixtures/consumer/check-express.ts'), join(dir, 'check-express.ts'));
  npm(['install', tarball, '@modelcontextprotocol/sdk@latest', 'zod@^4', 'express@^5', '@types/express@^5', '@types/node@^20', 'typescript@~5.9', 'prom-client@^15']);
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
  });

  it('type-checks the examples under strict TypeScript with skipLibCheck off, and npm ls is clean', () => {
    const tsc = spawnSync(process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
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
});

// The tarball must be what `npm pack` makes from a build: fail loudly when dist is missing.
if (!existsSync(join(ROOT, 'dist/index.js')) || readdirSync(join(ROOT, 'dist')).length === 0) throw new Error('build first: npm run build');
