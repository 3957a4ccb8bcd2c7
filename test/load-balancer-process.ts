import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { freePort, requireTools } from './prometheus-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Resolves once something accepts connections on the port; fails with the process's output if it exits first. */
async function listening(port: number, child: ChildProcess, output: () => string): Promise<void> {
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) throw new Error(`the load balancer exited: ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (tries > 200) throw new Error(`the load balancer did not listen on ${port}: ${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Runs Debian's HAProxy and nginx with the configurations the repository ships (deploy/),
 * each on a free port, their two servers replaced by `backends` (`host:port`), killed after
 * each test (or after the file's tests with `scope: 'file'`).
 */
export function useLoadBalancers(scope: 'test' | 'file' = 'test'): {
  /** HAProxy with deploy/haproxy/haproxy.cfg; `affinity: false` drops its stick rules (plain round robin). Resolves with its base URL. */
  haproxy: (backends: readonly [string, string], affinity: boolean) => Promise<string>;
  /** nginx with deploy/nginx/nginx.conf. Resolves with its base URL. */
  nginx: (backends: readonly [string, string]) => Promise<string>;
} {
  const children: ChildProcess[] = [];
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-exporter-lb-'));
  });
  (scope === 'test' ? afterEach : afterAll)(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (command: string, args: string[], port: number): Promise<string> => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    let output = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-10_000)));
    await listening(port, child, () => output);
    return `http://127.0.0.1:${port}`;
  };

  const haproxy = async ([first, second]: readonly [string, string], affinity: boolean): Promise<string> => {
    requireTools(['haproxy'], 'haproxy');
    const port = await freePort();
    const config = readFileSync(join(ROOT, 'deploy/haproxy/haproxy.cfg'), 'utf8')
      .replace(/^(\s*)bind :8080$/m, `$1bind 127.0.0.1:${port}`)
      .replace(/^(\s*server exporter-1) exporter-1:3000$/m, `$1 ${first}`)
      .replace(/^(\s*server exporter-2) exporter-2:3000$/m, `$1 ${second}`)
      .split('\n')
      .filter((line) => affinity || !/^\s*stick/.test(line))
      .join('\n');
    if (config.includes('exporter-1:3000') || !config.includes(`bind 127.0.0.1:${port}`)) throw new Error('deploy/haproxy/haproxy.cfg no longer has the lines this test replaces');
    const file = join(dir, `haproxy-${port}.cfg`);
    writeFileSync(file, config);
    return run('haproxy', ['-db', '-f', file], port);
  };

  const nginx = async ([first, second]: readonly [string, string]): Promise<string> => {
    requireTools(['nginx'], 'nginx-light');
    const port = await freePort();
    const prefix = mkdtempSync(join(dir, 'nginx-'));
    const config = readFileSync(join(ROOT, 'deploy/nginx/nginx.conf'), 'utf8')
      .replace(/^(\s*)listen 8080;$/m, `$1listen 127.0.0.1:${port};`)
      .replace(/^(\s*)server exporter-1:3000;$/m, `$1server ${first};`)
      .replace(/^(\s*)server exporter-2:3000;$/m, `$1server ${second};`);
    if (config.includes('exporter-1:3000') || !config.includes(`listen 127.0.0.1:${port};`)) throw new Error('deploy/nginx/nginx.conf no longer has the lines this test replaces');
    writeFileSync(join(prefix, 'nginx.conf'), config);
    return run('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', `daemon off; pid ${join(prefix, 'nginx.pid')};`], port);
  };

  return { haproxy, nginx };
}
