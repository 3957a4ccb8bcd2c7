/** Starting, pinning, timing and ending the processes the bench measures. */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { LoadAnswer, LoadCommand } from './load-worker.js';

/** The load client's core and the servers' core, when there are two to give. */
export const CORES = { load: 0, server: 1 };
export const canPin = cpus().length >= 2;

/** Pins every thread of a process to one core; false where taskset is missing. */
export function pin(pid: number, core: number): boolean {
  if (!canPin || pid === 0) return false;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Every process the bench started, ended however the bench ends. */
const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

/** A server process and the port it said it listens on. */
export interface Running {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts `command args` (its stdout read for the port: a line `{"port":N}`, or a JSON log
 * line with `"mcp":"http://...:N/mcp"`), pinned to the servers' core.
 */
export function startServer(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Running> {
  const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
  started.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let buffer = '';
    let found = false;
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      if (found) return; // the rest of its output (log lines) is not the bench's business
      buffer += chunk;
      const port = /"port":(\d+)/.exec(buffer)?.[1] ?? /"mcp":"http:\/\/[^"]*:(\d+)\//.exec(buffer)?.[1];
      if (port === undefined) return;
      found = true;
      pin(child.pid ?? 0, CORES.server);
      resolve({
        child,
        port: Number(port),
        stop: async () => {
          child.kill('SIGKILL');
          await exited;
          started.delete(child);
        },
      });
    });
    child.once('exit', (code) => {
      if (!found) reject(new Error(`${command} ${args.join(' ')} exited with ${code} before it listened`));
    });
  });
}

/** The clock ticks a second of /proc/<pid>/stat counts in (USER_HZ). */
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** The processes started by `pid`, recursively. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const task of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of children.split(' ').filter((id) => id !== '').map(Number)) out.push(child, ...descendants(child));
  }
  return out;
}

/** CPU time (user + system) a process has used so far, in µs, from the clock ticks of /proc/<pid>/stat; 0 once it is gone. */
function ticksOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e6;
  } catch {
    return 0;
  }
}

/**
 * CPU time a process has used so far, in µs: the nanoseconds each of its threads ran
 * (/proc/<pid>/task/<tid>/schedstat), which a window of half a second needs (a clock tick is
 * 10 ms), or the clock ticks where the kernel keeps no schedstat. 0 once it is gone.
 */
function cpuOf(pid: number): number {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  let nanos = 0;
  for (const task of tasks) {
    try {
      nanos += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // A thread that ended between the listing and the read. Its time leaves the sum, so a
      // window in which a thread ends reads low; Node's threads live as long as the process.
      continue;
    }
  }
  return Number.isFinite(nanos) && nanos > 0 ? nanos / 1000 : ticksOf(pid);
}

/** CPU used by a process alone, and by the processes it started, in µs. */
export function cpuMicros(pid: number): { own: number; children: number } {
  return { own: cpuOf(pid), children: descendants(pid).reduce((sum, child) => sum + cpuOf(child), 0) };
}

/** The load client: one command at a time to the load worker, answered with its measurements. */
export type Load = (command: LoadCommand) => Promise<LoadAnswer>;

/** Starts the load worker (bench/load-worker.ts) in a process of its own, pinned to the load's core. */
export async function startLoad(): Promise<Load> {
  const worker = fork(fileURLToPath(new URL('./load-worker.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  process.once('exit', () => worker.kill());
  await new Promise((resolve) => worker.once('message', resolve));
  pin(worker.pid ?? 0, CORES.load);
  return (command) =>
    new Promise((resolve, reject) => {
      worker.once('message', (answer: LoadAnswer) => (answer.error === undefined ? resolve(answer) : reject(new Error(answer.error))));
      worker.send(command);
    });
}
