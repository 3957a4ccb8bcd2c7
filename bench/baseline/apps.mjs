// What the user apps of the bench share: the `echo` server of either SDK line, the monitor
// (loaded only when asked for, from this project's compiled bench build), and the line that
// tells the bench the port.
const MONITOR = new URL('../../dist-bench/bench/servers/monitor-for.js', import.meta.url);

/** `none` (the app as its user runs it), `prom`, `prom-nospans` or `otel`: from the command line. */
export const backend = process.argv[2] ?? 'none';

/** The monitor for `backend`, or undefined for the bare app. */
export async function monitorOrNone() {
  if (backend === 'none') return undefined;
  const { monitorFor } = await import(MONITOR.href);
  return monitorFor(backend);
}

/** Tells the bench where the app listens, once it does. */
export function listening(http) {
  // The bench leaves a server's connections idle while it measures the others; with
  // Node's 5 s keep-alive timeout, the server would close them just as they are reused.
  http.keepAliveTimeout = 0;
  http.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: http.address().port })}\n`));
}

// Ended by a signal, the process exits normally: a profile asked for with --cpu-prof is written.
process.once('SIGTERM', () => process.exit(0));
