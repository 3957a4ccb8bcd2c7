import { connect as netConnect, isIP, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect } from 'node:tls';
import { ResponseParser, type ResponseEvents, type ResponseHead } from './http1-response.js';

/** How long a connection to the upstream may take to open. */
const CONNECT_TIMEOUT_MS = 10_000;
/** How long an idle connection is kept when the upstream does not say (its Keep-Alive timeout). */
const DEFAULT_KEEP_MS = 4000;
/** An idle connection is let go this long before the upstream's own Keep-Alive timeout would close it, as node:http's agent does. */
const KEEP_MARGIN_MS = 1000;
/** Idle connections kept at most (node:http's agent's maxFreeSockets). */
const MAX_IDLE = 256;
/**
 * Where every plain TCP connection to the upstream reads (node:net's `onread`): one buffer
 * for all of them, as node:net would read into 64 KiB of its own, but with no new buffer, no
 * stream's bookkeeping and no 'data' event per read. A read is handled whole before the next
 * one starts, and nothing keeps a view into it past its handling (see ExchangeListener.body).
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** Where the upstream listens. */
export interface UpstreamTarget {
  hostname: string;
  port: number;
  tls: boolean;
}

/** What one exchange hears of the upstream's answer, in order. */
export interface ExchangeListener {
  head(head: ResponseHead): void;
  /** Body bytes as they arrive: a view into the connection's read buffer, valid during the call only (copy what is kept). */
  body(chunk: Buffer): void;
  /** One read from the upstream was handled (the events it held have fired). */
  read(): void;
  end(): void;
  /** The exchange failed: the connection would not open, broke, or carried an answer that cannot be relayed. Called at most once, never after end(). */
  fail(error: Error): void;
}

/** One request in flight. */
export interface UpstreamExchange {
  /** Gives up on the answer: its connection is closed, not reused. */
  cancel(): void;
  pause(): void;
  resume(): void;
}

/**
 * The proxy's connections to its upstream: HTTP/1.1 over TCP or TLS, each carrying one
 * request at a time and kept open between requests, the most recently used first. A
 * request is written as the one string the relay built, and the answer read by
 * ResponseParser: nothing of node:http's request and response objects per call, which
 * cost the relay more than the monitoring did.
 */
export class UpstreamPool {
  private readonly idle: Connection[] = [];
  private closed = false;

  constructor(private readonly target: UpstreamTarget) {}

  /** Sends `request` (a whole HTTP/1.1 request: head, and body if any) and reports its answer to `listener`. `noBody`: it is a HEAD. */
  send(request: string, noBody: boolean, listener: ExchangeListener): UpstreamExchange {
    const now = performance.now();
    let connection = this.idle.pop();
    // One the upstream may be closing by now is let go, not raced.
    while (connection && now >= connection.expiresAt) {
      connection.destroy();
      connection = this.idle.pop();
    }
    connection ??= new Connection(this.target, this);
    return connection.send(request, noBody, listener);
  }

  /** A connection that finished its exchange cleanly. */
  release(connection: Connection): void {
    if (this.closed || this.idle.length >= MAX_IDLE) connection.destroy();
    else this.idle.push(connection);
  }

  /** A connection that closed: it leaves the idle list if it was there. */
  forget(connection: Connection): void {
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
  }

  /** Closes the idle connections, and every one that finishes from now on. */
  close(): void {
    this.closed = true;
    for (const connection of this.idle.splice(0)) connection.destroy();
  }
}

/** One exchange's hold on its connection: nothing once the exchange is over. */
class ExchangeHandle implements UpstreamExchange {
  constructor(
    private readonly connection: Connection,
    private readonly exchange: number,
  ) {}

  cancel(): void {
    if (this.connection.carries(this.exchange)) this.connection.cancel();
  }

  pause(): void {
    if (this.connection.carries(this.exchange)) this.connection.pause();
  }

  resume(): void {
    if (this.connection.carries(this.exchange)) this.connection.resume();
  }
}

class Connection implements ResponseEvents {
  private readonly socket: Socket;
  /** Counts exchanges, so a handle of one that is over never touches the next. */
  private exchanges = 0;
  private parser: ResponseParser | undefined;
  private listener: ExchangeListener | undefined;
  private error: Error | undefined;
  /** performance.now() after which this idle connection is not used again. */
  expiresAt = Infinity;

  constructor(
    target: UpstreamTarget,
    private readonly pool: UpstreamPool,
  ) {
    const host = target.hostname;
    const socket = target.tls
      ? tlsConnect({ host, port: target.port, servername: isIP(host) === 0 ? host : undefined, ALPNProtocols: ['http/1.1'] })
      : netConnect({ host, port: target.port, onread: { buffer: READ_BUFFER, callback: (bytes: number) => this.onRead(bytes) } });
    this.socket = socket;
    socket.setNoDelay(true);
    // A connection that takes this long to open is a timeout, not an answer still coming.
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })));
    socket.once(target.tls ? 'secureConnect' : 'connect', () => socket.setTimeout(0));
    if (target.tls) socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', (error) => (this.error ??= error));
    socket.once('close', () => this.onClose());
  }

  send(request: string, noBody: boolean, listener: ExchangeListener): UpstreamExchange {
    this.listener = listener;
    this.parser = new ResponseParser(this, noBody);
    this.expiresAt = Infinity;
    this.socket.ref();
    this.socket.write(request);
    return new ExchangeHandle(this, ++this.exchanges);
  }

  /** Whether exchange number `exchange` is the one in flight. */
  carries(exchange: number): boolean {
    return this.exchanges === exchange && this.listener !== undefined;
  }

  /** Gives up on the exchange in flight: the connection is closed, not reused. */
  cancel(): void {
    this.finish();
    this.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  head(head: ResponseHead): void {
    this.listener?.head(head);
  }

  body(chunk: Buffer): void {
    this.listener?.body(chunk);
  }

  end(): void {
    this.listener?.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** A read into READ_BUFFER; true: reading goes on (a pause is asked for by pause()). */
  private onRead(bytes: number): boolean {
    this.onData(READ_BUFFER.subarray(0, bytes));
    return true;
  }

  private onData(data: Buffer): void {
    const parser = this.parser;
    const listener = this.listener;
    if (!parser || !listener) {
      // Bytes nobody asked for: this connection's framing cannot be trusted.
      this.destroy();
      return;
    }
    try {
      parser.push(data);
    } catch (error) {
      this.finish();
      this.destroy();
      listener.fail(error as Error);
      return;
    }
    listener.read();
    if (!parser.done) return;
    this.finish();
    // The listener may have given up on the answer (cancel): a destroyed socket is not kept.
    if (!parser.reusableNow || this.socket.destroyed) {
      this.destroy();
      return;
    }
    this.expiresAt = performance.now() + Math.max(0, (parser.keepAliveMs ?? DEFAULT_KEEP_MS + KEEP_MARGIN_MS) - KEEP_MARGIN_MS);
    // An idle connection does not keep the process alive, nor stay paused by the exchange before.
    this.socket.unref();
    if (this.socket.isPaused()) this.socket.resume();
    this.pool.release(this);
  }

  private onClose(): void {
    this.pool.forget(this);
    const parser = this.parser;
    const listener = this.listener;
    if (!parser || !listener) return;
    // An answer framed by the connection's end is complete now (its end() fires); any other is cut short.
    const complete = parser.close();
    this.finish();
    if (complete) return;
    listener.fail(this.error ?? Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
  }

  private finish(): void {
    this.parser = undefined;
    this.listener = undefined;
  }
}
