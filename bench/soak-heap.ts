/**
 * Loaded into the soak's server process (`node --expose-gc --import`): answers the message
 * `heap` with the heap after a full GC, the resident set and the open file descriptors.
 * It changes nothing else in the process, and never keeps it alive.
 */
import { readdirSync } from 'node:fs';

const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', (message) => {
  if (message !== 'heap' || gc === undefined) return;
  gc();
  gc();
  const { heapUsed, rss } = process.memoryUsage();
  process.send?.({ heapUsed, rss, fds: readdirSync('/proc/self/fd').length });
});
process.channel?.unref();
