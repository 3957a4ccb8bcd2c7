import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { StdioCommand, UpstreamLog } from './relay-bridge.js';

/** Lines of stderr an exit line repeats. */
const STDERR_TAIL = 5;
/** Longest stderr line logged. */
const MAX_LINE = 2000;
/** How long a child has to exit after its stdin ends, before SIGTERM (and as long again before SIGKILL). */
const EXIT_GRACE_MS = 2000;

/**
 * A stdio MCP server as a child process, spoken to as the MCP stdio transport says: one
 * JSON-RPC message a line each way. The lines go through as text, neither parsed nor
 * checked here (the proxy reads what it needs of them); stderr is logged a line at a
 * time, and a child that cannot start or exits on its own is one log line with why.
 */
export class StdioChild {
  /** Each line the child writes to stdout. */
  onLine: (line: string) => void = () => {};
  /** The child is gone on its own (exited, killed, or never started): `why` is "exited with code 3" or "exited with SIGKILL". */
  onGone: (why: string) => void = () => {};
  private process: ChildProcessWithoutNullStreams | undefined;
  private partial = '';
  private readonly tail: string[] = [];
  private closing = false;
  private gone = false;
  private exited: Promise<void> | undefined;

  constructor(
    private readonly spec: StdioCommand,
    private readonly log: UpstreamLog,
  ) {}

  /** Starts the child; rejects with the reason (ENOENT, EACCES) when it cannot start. */
  start(): Promise<void> {
    const { command, args, env } = this.spec;
    const child = spawn(command, [...args], { env: { ...getDefaultEnvironment(), ...env }, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    this.process = child;
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.read(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => this.stderr(chunk));
    // A child gone mid-write: the exit below says so.
    child.stdin.on('error', () => {});
    return new Promise((resolve, reject) => {
      child.once('spawn', () => {
        child.once('exit', (code, signal) => this.exit(code, signal));
        resolve();
      });
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (this.gone) return;
        const reason = error.code ?? error.message;
        this.gone = true;
        this.log({ event: 'upstream_exit', command, started: false, reason }, `the stdio server (${command}) could not start: ${reason}`, 'warn');
        reject(Object.assign(new Error(reason), { code: error.code }));
      });
    });
  }

  /** Writes one message (a line of JSON) to the child; false when it is gone. */
  send(line: string): boolean {
    const stdin = this.process?.stdin;
    if (this.gone || !stdin || stdin.destroyed) return false;
    stdin.write(line.endsWith('\n') ? line : `${line}\n`);
    return true;
  }

  /** Ends the child as the stdio transport says: stdin closed, then SIGTERM, then SIGKILL. Resolves once it is gone. */
  async close(): Promise<void> {
    const child = this.process;
    if (!child || this.closing) return this.exited;
    this.closing = true;
    this.gone = true;
    child.stdin.end();
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS).unref();
    }, EXIT_GRACE_MS);
    timer.unref();
    await this.exited;
    clearTimeout(timer);
  }

  private read(chunk: string): void {
    let text = this.partial === '' ? chunk : this.partial + chunk;
    let newline = text.indexOf('\n');
    while (newline >= 0) {
      const line = text.charCodeAt(newline - 1) === 13 ? text.slice(0, newline - 1) : text.slice(0, newline);
      text = text.slice(newline + 1);
      if (line !== '') this.onLine(line);
      newline = text.indexOf('\n');
    }
    this.partial = text;
  }

  private stderr(chunk: string): void {
    for (const raw of chunk.split('\n')) {
      if (raw.trim() === '') continue;
      const line = raw.slice(0, MAX_LINE);
      this.tail.push(line);
      if (this.tail.length > STDERR_TAIL) this.tail.shift();
      this.log({ event: 'upstream_stderr', line }, 'stdio server wrote to stderr');
    }
  }

  private exit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.closing) return;
    this.gone = true;
    // stderr may still hold its last lines: let them arrive first.
    const why = `exited with ${signal ?? `code ${String(code)}`}`;
    setImmediate(() => {
      this.log({ event: 'upstream_exit', command: this.spec.command, code, signal, stderr: [...this.tail] }, `the stdio server (${this.spec.command}) ${why}`, 'warn');
      this.onGone(why);
    });
  }
}
