import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import { VERSION } from '../version.js';

/** What `mcp_exporter_build_info` says. */
export interface BuildInfo {
  version: string;
  /** The commit it was built from (written at build time), or `unknown`. */
  revision: string;
  nodejs_version: string;
  /** `@modelcontextprotocol/sdk` (the SDK v1 line) as installed beside it, or empty. */
  mcp_sdk_version: string;
  /** `@modelcontextprotocol/server` (the SDK v2 line) as installed beside it, or empty. (Not `mcp_server_...`: that prefix is the session metrics'.) */
  mcp_sdk_v2_version: string;
}

const require = createRequire(import.meta.url);

/** The version of an installed package, from its package.json where Node would look for it (some export no `.` entry). */
export function installedVersion(name: string): string {
  for (const dir of require.resolve.paths(name) ?? []) {
    const file = join(dir, name, 'package.json');
    if (!existsSync(file)) continue;
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '';
  }
  return '';
}

/** The commit: dist/build-info.json (written by `npm run build`), else `git` in a checkout, else `unknown`. */
function revision(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../build-info.json', import.meta.url), 'utf8')) as { revision: string }).revision;
  } catch {
    try {
      return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: dirname(new URL(import.meta.url).pathname), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return 'unknown';
    }
  }
}

let cached: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  cached ??= {
    version: VERSION,
    revision: revision(),
    nodejs_version: process.version,
    mcp_sdk_version: installedVersion('@modelcontextprotocol/sdk'),
    mcp_sdk_v2_version: installedVersion('@modelcontextprotocol/server'),
  };
  return cached;
}

/** `mcp_exporter_build_info` (always 1), as exporters say what they run: its labels are the versions. */
export function addBuildInfo(registry: Registry): void {
  const info = buildInfo();
  const gauge = new Gauge({
    name: 'mcp_exporter_build_info',
    help: 'A metric with a constant 1 labeled by the version, revision and Node.js and MCP SDK versions mcp-exporter runs with.',
    labelNames: Object.keys(info),
    registers: [registry],
  });
  gauge.set({ ...info }, 1);
}
