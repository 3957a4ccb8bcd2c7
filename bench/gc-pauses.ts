/**
 * Loaded into a server by `npm run bench:side-by-side` (`node --import`): sums the server's
 * garbage-collection pauses by kind and, on SIGUSR2, writes them as JSON to the file named by
 * BENCH_GC_FILE. The server's own code is not touched.
 */
import { writeFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';

export interface GcPauses {
  /** Scavenges: their pauses in ms, and how many. */
  minorMs: number;
  minor: number;
  /** Mark-compact and its incremental steps, in ms, and how many full collections. */
  majorMs: number;
  major: number;
}

const file = process.env.BENCH_GC_FILE;
if (file !== undefined && file !== '') {
  const pauses: GcPauses = { minorMs: 0, minor: 0, majorMs: 0, major: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = ((entry as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        pauses.minorMs += entry.duration;
        pauses.minor += 1;
      } else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        pauses.majorMs += entry.duration;
        pauses.major += 1;
      } else if (kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) pauses.majorMs += entry.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('SIGUSR2', () => writeFileSync(file, JSON.stringify(pauses)));
}
