/**
 * The load client in its own process, so the client and the server under test each
 * have a core of their own and neither is timed for the other's work. It keeps each
 * server's sessions and answers one IPC command at a time with its measurements.
 */
import { callBody, closeSession, openSession, pool, post, runFor, send, standaloneCall, type CallShape } from './http-client.js';
import { median } from './stats.js';

export type LoadCommand =
  | { cmd: 'open'; port: number; count: number }
  | { cmd: 'fill'; port: number; count: number }
  | { cmd: 'calls'; port: number; ms: number; shape?: CallShape; concurrency?: number }
  | { cmd: 'churn'; port: number; ms: number; concurrency: number }
  | { cmd: 'gets'; port: number; path: string; count: number };

export interface LoadAnswer {
  /** Completions and their latencies in ms (calls, churn), or one median (gets). */
  latencies: number[];
  elapsedMs: number;
  error?: string;
}

/** The sessions a `calls` run uses, one per concurrent loop, by server port. */
const kept = new Map<number, Record<string, string>[]>();

async function run(command: LoadCommand): Promise<LoadAnswer> {
  const started = performance.now();
  const done = (latencies: number[]): LoadAnswer => ({ latencies, elapsedMs: performance.now() - started });
  switch (command.cmd) {
    case 'open': {
      const sessions = await Promise.all(Array.from({ length: command.count }, () => openSession(command.port)));
      kept.set(command.port, sessions);
      return done([]);
    }
    case 'fill':
      await pool(command.count, 32, async () => void (await openSession(command.port)));
      return done([]);
    case 'calls': {
      const shape = command.shape ?? 'session';
      if (shape !== 'session') {
        return done(
          await runFor(command.ms, command.concurrency ?? 16, async (_loop, i) => {
            const call = standaloneCall(shape, i + 1);
            const res = await post(command.port, '/mcp', call.body, call.headers);
            if (res.status !== 200) throw new Error(`tools/call (${shape}) answered ${res.status}: ${res.body.slice(0, 200)}`);
          }),
        );
      }
      const sessions = kept.get(command.port) ?? [];
      const latencies = await runFor(command.ms, sessions.length, async (loop, i) => {
        const res = await post(command.port, '/mcp', callBody(i + 1), sessions[loop] ?? {});
        if (res.status !== 200) throw new Error(`tools/call answered ${res.status}`);
      });
      return done(latencies);
    }
    case 'churn':
      return done(
        await runFor(command.ms, command.concurrency, async () => {
          await closeSession(command.port, await openSession(command.port));
        }),
      );
    case 'gets': {
      const times: number[] = [];
      for (let i = 0; i < command.count; i++) {
        const start = performance.now();
        const res = await send(command.port, 'GET', command.path, undefined);
        if (res.status !== 200) throw new Error(`GET ${command.path} answered ${res.status}`);
        times.push(performance.now() - start);
      }
      return done([median(times)]);
    }
  }
}

process.on('message', (command: LoadCommand) => {
  run(command).then(
    (answer) => process.send?.(answer),
    (error: unknown) => process.send?.({ latencies: [], elapsedMs: 0, error: error instanceof Error ? error.message : String(error) }),
  );
});
process.send?.({ ready: true });
