import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * How long-lived streams are kept honest, and how a peer that is gone is found:
 *
 * - Heartbeats: an SSE comment on every open stream (legacy `/sse`, the GET stream of a
 *   Streamable HTTP session) each interval, as the SDK v2 does on its own streams. It keeps
 *   proxies and load balancers from cutting an idle stream, and it makes the kernel find a
 *   peer that vanished without a FIN: unacknowledged data is retransmitted and the socket
 *   fails when the kernel gives up (Linux: net.ipv4.tcp_retries2 = 15, about 15 minutes).
 * - TCP keepalive on every accepted socket (after 60 s idle), for connections with no
 *   stream to write to (Linux: then 9 probes 75 s apart).
 * - An MCP `ping` to every session holding a stream open, each interval; a session whose
 *   client does not answer within the timeout is closed as `ping_timeout`. This finds a
 *   client that keeps its stream open but no longer reads or answers, which TCP never will.
 */
export const DEFAULT_HEARTBEAT_INTERVAL_SECONDS = 15;
export const DEFAULT_PING_INTERVAL_SECONDS = 60;
export const DEFAULT_PING_TIMEOUT_SECONDS = 10;
/** Idle time before TCP keepalive probes start on an accepted socket. */
export const TCP_KEEPALIVE_DELAY_MS = 60_000;

const HEARTBEAT = ': keepalive\n\n';

const keptAlive = new WeakSet<Socket>();

/** Turns TCP keepalive on for a socket of a server this project did not create (a library user's), once. */
export function keepAlive(socket: Socket): void {
  if (keptAlive.has(socket)) return;
  keptAlive.add(socket);
  socket.setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
}

/** Writes an SSE comment on every registered stream each interval; one timer for all of them. */
export class Heartbeats {
  private readonly streams = new Set<ServerResponse>();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(intervalMs: number) {
    if (intervalMs > 0) {
      this.timer = setInterval(() => this.beat(), intervalMs);
      this.timer.unref();
    }
  }

  /** Keeps `res` (an SSE stream whose headers are sent) until it closes. */
  add(res: ServerResponse): void {
    if (this.timer === undefined || res.writableEnded || this.streams.has(res)) return;
    this.streams.add(res);
    res.once('close', () => this.streams.delete(res));
  }

  private beat(): void {
    for (const res of this.streams) {
      if (res.writableEnded || res.destroyed) this.streams.delete(res);
      else res.write(HEARTBEAT);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.streams.clear();
  }
}
