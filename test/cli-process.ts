import { spawn, spawnSync, type ChildProcessWithoutNullStreams, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll } from 'vitest';

/** The built CLI (npm test builds it first). */
export const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** One JSON log line of the CLI. */
export interface LogLine {
  event?: string;
  mcp?: string;
  admin?: string | null;
  reason?: string;
  msg?: string;
  level?: number;
  [key: string]: unknown;
}

export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  /** Every log line so far, parsed; grows while the process runs. */
  lines: LogLine[];
  /** Everything written to stderr so far. */
  stderr: () => string;
  /** The MCP endpoint, from the `listening` line. */
  url: string;
  /** The admin base URL, from the `listening` line. */
  adminUrl: string;
  exited: Promise<number | null>;
  /** Resolves with the first log line (already written or to come) that `match` accepts. */
  line(match: (line: LogLine) => boolean): Promise<LogLine>;
}

/** The environment without MCP_* and OTEL_* variables, so a developer's shell does not change a test. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('MCP_') && !key.startsWith('OTEL_'))), ...extra };
}

/** Runs the CLI to its end (a bad setting, --help) with a clean MCP_* environment. */
export function runCli(args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: cleanEnv(env), timeout: 15_000 });
}

/**
 * Starts the CLI (`serve`, `proxy ...`; `--port 0` is added) with a clean MCP_* environment
 * plus `env`, and resolves once it logs that it listens. Children are killed after each
 * test, or after the file's tests with `scope: 'file'` (for processes a beforeAll starts).
 */
export function useCliProcesses(scope: 'test' | 'file' = 'test'): { start: (args: string[], env?: Record<string, string>) => Promise<CliProcess> } {
  const children: ChildProcessWithoutNullStreams[] = [];
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
  });
  (scope === 'test' ? afterEach : afterAll)(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });
  const start = (args: string[], env: Record<string, string> = {}): Promise<CliProcess> => {
    const child = spawn(process.execPath, [CLI, ...args, '--port', '0'], { env: cleanEnv(env) });
    children.push(child);
    const lines: LogLine[] = [];
    const waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const line = (match: (line: LogLine) => boolean): Promise<LogLine> => {
      const seen = lines.find(match);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
    };
    return new Promise((resolve, reject) => {
      let buffer = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        buffer += chunk;
        let newline;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const parsed = JSON.parse(buffer.slice(0, newline)) as LogLine;
          buffer = buffer.slice(newline + 1);
          lines.push(parsed);
          for (const waiter of waiters.filter((w) => w.match(parsed))) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(parsed);
          }
          if (parsed.event === 'listening' && typeof parsed.mcp === 'string') {
            const url = parsed.mcp;
            const adminUrl = typeof parsed.admin === 'string' ? parsed.admin : new URL(url).origin;
            resolve({ child, lines, stderr: () => stderr, url, adminUrl, exited, line });
          }
        }
      });
      child.once('exit', (code) => reject(new Error(`the CLI exited early with ${code}: ${stderr.trim()}`)));
    });
  };
  return { start };
}
