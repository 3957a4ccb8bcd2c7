/**
 * The proxy's front door: its listener reads each connection's requests itself, and relays a
 * plain `POST <endpoint>` (see http1-request.ts) to the upstream with no node:http request or
 * response made for it, as the upstream side does (proxy/upstream-pool.ts). The hosted
 * server puts it in front when its endpoint handler is an AnswerRelay (the proxy's
 * HttpUpstream); the library never needs the proxy's code for it. Everything else (other
 * methods and paths, the admin routes, refusals, anything unusual) is handed to node:http's
 * server at a request boundary, the bytes read so far put back, and the connection stays
 * with node:http from then on: it answers those exactly as it would have.
 *
 * What node:http's server does for a connection, this does for the ones it keeps, the same
 * way: keep-alive (an idle connection closed a second after the server's keepAliveTimeout), a head
 * within headersTimeout and a request within requestTimeout (else 408, as node:http writes
 * it), `Connection: close`, a client's half-close, and answers framed and headed as
 * node:http frames and heads them (Date, Connection, Keep-Alive, chunked for a body of no
 * length).
 */
import { STATUS_CODES, type Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { SlotList, type Slotted } from '../core/slot-list.js';
import { parseJsonBody } from '../transport/read-body.js';
import type { AnswerHead, BodyWatch } from '../wire/exchange.js';
import { mayBePost, readRequestHead, type RequestHead } from './http1-request.js';

/** A head longer than this is node:http's to read (and refuse at its own limit). */
const MAX_FRONT_HEAD_BYTES = 8192;
/**
 * A head that comes in more pieces than this is node:http's to read: a client writes its
 * head in one or two; one that sends it a few bytes at a time is read by the parser made
 * for that, not joined here again at every piece.
 */
const MAX_HEAD_PIECES = 16;
/** How often timeouts are checked (node:http's connectionsCheckingInterval as the server sets it). */
const CHECK_INTERVAL_MS = 500;
/** What node:http's server waits past its keepAliveTimeout before closing an idle connection, so a client that trusts Keep-Alive never races the close. */
const KEEP_ALIVE_BUFFER_MS = 1000;
const END_OF_HEAD = Buffer.from('\r\n\r\n');
/** node:http's answer to a request that timed out. */
const REQUEST_TIMEOUT = `HTTP/1.1 408 ${STATUS_CODES[408]}\r\nConnection: close\r\n\r\n`;

/**
 * Where an exchange writes its answer to the client: node:http's response (the proxy's
 * NodeAnswer), or a front door's connection (SocketAnswer, below). The head is held until the body's first bytes,
 * flushHeaders, or the end, as node:http holds it.
 */
export interface ClientAnswer {
  /**
   * `headers` as received (name, value, ...), checked by whoever read them (ResponseParser
   * lets no control character or bad name through). node:http's response checks them again,
   * and throws on what it will not send.
   */
  writeHead(status: number, reason: string, headers: string[]): void;
  /** A whole answer made here: a JSON body. */
  json(status: number, text: string): void;
  /**
   * Body bytes, valid during the call only (the relay's read buffer): they may be held, and
   * go out with what follows them at the next flush() or the end. False when the client is
   * not taking bytes as fast: wait for onDrain.
   */
  write(chunk: Buffer): boolean;
  /** Sends what write() held: called once the read that brought the bytes is handled, so one read goes out in one write. */
  flush(): void;
  flushHeaders(): void;
  end(text?: string): void;
  destroy(): void;
  /** Called once if the client's connection closes before the answer ended. */
  onClose(listener: () => void): void;
  onDrain(listener: () => void): void;
  /** The answer ended (its last bytes written). */
  readonly finished: boolean;
}

/** A request to relay, read already (by node:http, or by the proxy's front door). */
export interface RelayRequest {
  /** Upper case. */
  method: string;
  /** The headers as received: name, value, ... Whoever read them let no CR, LF or NUL into a name or value. */
  raw: readonly string[];
  /** The headers' names in lower case, one for each pair of raw, when the reader has them. */
  names?: readonly string[];
  /** The body as the client sent it (undefined for a GET or DELETE). */
  text: string | undefined;
  /** Its JSON, when parsed already. */
  parsed?: unknown;
}

/** A request the front door read: its head, its body as text and as JSON, and its connection. */
export interface FrontRequest {
  head: RequestHead;
  text: string;
  body: unknown;
  socket: Socket;
}

export interface FrontDoorOptions {
  /** The MCP endpoint's path. */
  endpoint: string;
  maxBodyBytes: number;
  /** Whether a Host passes the request guard; a request whose Host does not is node:http's to refuse. */
  hostAllowed(host: string | undefined): boolean;
  /** Serves one request; its answer goes to `answer`. */
  serve(request: FrontRequest, answer: ClientAnswer): void;
}

/** A relay that writes its answer through a ClientAnswer (HttpUpstream): the front door can serve its requests. */
export interface AnswerRelay {
  /** `answered` is called exactly once (the answer's head, or CLIENT_GONE); `done` when the exchange is over. */
  relayTo(request: RelayRequest, answer: ClientAnswer, answered: (head: AnswerHead) => BodyWatch | undefined, done?: () => void): void;
}

export const isAnswerRelay = (handler: unknown): handler is AnswerRelay => typeof (handler as { relayTo?: unknown } | undefined)?.relayTo === 'function';

export class FrontDoor {
  private readonly connections = new SlotList<FrontConnection>();
  private readonly timer: NodeJS.Timeout;

  private constructor(
    readonly server: HttpServer,
    /** node:http's own connection listeners: a handed-over connection goes to them. */
    private readonly nodeListeners: ((socket: Socket) => void)[],
    readonly options: FrontDoorOptions,
  ) {
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => this.connections.add(new FrontConnection(this, socket)));
    this.timer = setInterval(() => this.check(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  /** Puts a front door before `server`'s connection handling; undefined when the server is not as node:http makes it (one connection listener). */
  static install(server: HttpServer, options: FrontDoorOptions): FrontDoor | undefined {
    const listeners = server.listeners('connection') as ((socket: Socket) => void)[];
    return listeners.length === 1 ? new FrontDoor(server, listeners, options) : undefined;
  }

  /** Gives a connection, and the bytes read of it (put back first), to node:http's server. */
  handOver(connection: FrontConnection, socket: Socket, bytes: Buffer | undefined): void {
    this.connections.delete(connection);
    socket.pause();
    if (bytes !== undefined && bytes.length > 0) socket.unshift(bytes);
    for (const listener of this.nodeListeners) listener.call(this.server, socket);
    socket.resume();
  }

  forget(connection: FrontConnection): void {
    this.connections.delete(connection);
  }

  /** Ends every connection it keeps (the server is closing: what was pending was answered). */
  close(): void {
    clearInterval(this.timer);
    for (const connection of this.connections.clear()) connection.destroy();
  }

  private check(): void {
    const { headersTimeout, requestTimeout, keepAliveTimeout } = this.server;
    const now = performance.now();
    for (const connection of this.connections.toArray()) connection.check(now, headersTimeout, requestTimeout, keepAliveTimeout);
  }
}

const enum Phase {
  /** Reading a head (from the connection's start, or the first byte after the last answer). */
  Head,
  /** The head read, the body not all here. */
  Body,
  Answering,
  /** Between requests. */
  Idle,
  /** Closed, or node:http's. */
  Gone,
}

class FrontConnection implements Slotted {
  slot = -1;
  private phase = Phase.Head;
  /** When the request being read began, or when the connection went idle. */
  private since = performance.now();
  /** Bytes read and not yet used: the request being read, from its first byte. */
  private buffered: Buffer | undefined;
  /** Pieces that came after `buffered`, not joined to it yet (a body is joined once, when all of it is here). */
  private parts: Buffer[] | undefined;
  private partsBytes = 0;
  /** Pieces of the request being read so far. */
  private pieces = 0;
  /** Where the body of the request being read ends in `buffered`, once its head is read. */
  private bodyEnd = 0;
  /** How far the head's end was looked for. */
  private scanned = 0;
  private head: RequestHead | undefined;
  private answer: SocketAnswer | undefined;
  private readonly onData = (chunk: Buffer): void => this.data(chunk);
  private readonly onEnd = (): void => this.clientEnded();
  private readonly onClose = (): void => this.closed();

  constructor(
    private readonly door: FrontDoor,
    private readonly socket: Socket,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('error', noop);
  }

  destroy(): void {
    this.phase = Phase.Gone;
    this.socket.destroy();
  }

  check(now: number, headersTimeout: number, requestTimeout: number, keepAliveTimeout: number): void {
    const elapsed = now - this.since;
    if (this.phase === Phase.Idle) {
      if (keepAliveTimeout > 0 && elapsed > keepAliveTimeout + KEEP_ALIVE_BUFFER_MS) this.destroy();
    } else if (this.phase === Phase.Head || this.phase === Phase.Body) {
      if ((this.phase === Phase.Head && headersTimeout > 0 && elapsed > headersTimeout) || (requestTimeout > 0 && elapsed > requestTimeout)) this.timedOut();
    }
  }

  /** The answer in flight ended: the next request is read, or the connection ends. */
  answered(close: boolean): void {
    this.answer = undefined;
    if (this.phase === Phase.Gone) return;
    if (close) {
      this.phase = Phase.Gone;
      this.door.forget(this);
      this.socket.end();
      return;
    }
    this.since = performance.now();
    if (this.buffered === undefined) {
      this.phase = Phase.Idle;
    } else {
      // A request that came while this one was answered (pipelined), read once this call has unwound.
      this.phase = Phase.Head;
      queueMicrotask(() => {
        this.join();
        this.advance();
      });
    }
    if (this.socket.isPaused()) this.socket.resume();
  }

  private data(chunk: Buffer): void {
    if (this.phase === Phase.Gone) return;
    if (this.buffered === undefined) this.buffered = chunk;
    else {
      (this.parts ??= []).push(chunk);
      this.partsBytes += chunk.length;
    }
    this.pieces++;
    if (this.phase === Phase.Answering) {
      // The next request waits for this answer: no more is read until then.
      this.socket.pause();
      return;
    }
    if (this.phase === Phase.Idle) {
      this.phase = Phase.Head;
      this.since = performance.now();
    }
    if (this.phase === Phase.Body && this.buffered.length + this.partsBytes < this.bodyEnd) return;
    if (this.phase === Phase.Head && this.pieces > MAX_HEAD_PIECES) return this.handOver();
    this.join();
    this.advance();
  }

  /** Joins the pieces that came after `buffered` to it. */
  private join(): void {
    const parts = this.parts;
    if (parts === undefined || this.buffered === undefined) return;
    this.buffered = Buffer.concat([this.buffered, ...parts]);
    this.parts = undefined;
    this.partsBytes = 0;
  }

  private advance(): void {
    const buf = this.buffered;
    if (buf === undefined || (this.phase !== Phase.Head && this.phase !== Phase.Body)) return;
    const { options } = this.door;
    if (this.phase === Phase.Head) {
      if (!mayBePost(buf)) return this.handOver();
      const end = buf.indexOf(END_OF_HEAD, Math.max(0, this.scanned - 3));
      if (end < 0) {
        if (buf.length > MAX_FRONT_HEAD_BYTES) return this.handOver();
        this.scanned = buf.length;
        return;
      }
      const head = end > MAX_FRONT_HEAD_BYTES ? undefined : readRequestHead(buf.toString('latin1', 0, end), options.endpoint, options.maxBodyBytes);
      if (head === undefined || !options.hostAllowed(head.headers.host)) return this.handOver();
      this.head = head;
      this.scanned = end + 4;
      this.bodyEnd = this.scanned + head.contentLength;
      this.phase = Phase.Body;
    }
    const head = this.head as RequestHead;
    const bodyStart = this.scanned;
    const bodyEnd = this.bodyEnd;
    if (buf.length < bodyEnd) return;
    const text = buf.toString('utf8', bodyStart, bodyEnd);
    // A body node:http's path refuses (not JSON, nested too deep) is refused there, counted as it counts them.
    const parsed = parseJsonBody(text);
    if (typeof parsed === 'string') return this.handOver();
    const body = parsed.body;
    this.buffered = bodyEnd === buf.length ? undefined : buf.subarray(bodyEnd);
    this.pieces = this.buffered === undefined ? 0 : 1;
    this.scanned = 0;
    this.head = undefined;
    this.phase = Phase.Answering;
    const answer = new SocketAnswer(this, this.socket, head.close, this.door.server.keepAliveTimeout);
    this.answer = answer;
    options.serve({ head, text, body, socket: this.socket }, answer);
  }

  private handOver(): void {
    this.phase = Phase.Gone;
    const { socket } = this;
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('close', this.onClose);
    socket.off('error', noop);
    this.join();
    const bytes = this.buffered;
    this.buffered = undefined;
    this.head = undefined;
    this.door.handOver(this, socket, bytes);
  }

  /** As node:http does when a request takes too long: a 408 when nothing of an answer is on its way, and the connection closed. */
  private timedOut(): void {
    const error = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
    this.phase = Phase.Gone;
    this.door.forget(this);
    if (this.door.server.emit('clientError', error, this.socket)) return;
    if (this.socket.writable) this.socket.write(REQUEST_TIMEOUT, 'latin1');
    this.socket.destroy();
  }

  /** The client half-closed: as node:http's server does by default, what it asked is abandoned and the connection ends. */
  private clientEnded(): void {
    this.phase = Phase.Gone;
    this.door.forget(this);
    this.socket.end();
    this.answer?.clientClosed();
  }

  private closed(): void {
    this.phase = Phase.Gone;
    this.door.forget(this);
    this.answer?.clientClosed();
  }
}

/** node:http's Date header text, made once a second. */
let dateText = '';
let dateUntil = 0;
function httpDate(): string {
  const now = Date.now();
  if (now >= dateUntil) {
    dateText = new Date(now).toUTCString();
    dateUntil = now - (now % 1000) + 1000;
  }
  return dateText;
}

const enum Written {
  Nothing,
  /** The head is written but held, as node:http holds it until the body's first bytes. */
  HeadHeld,
  HeadSent,
  Ended,
}

/**
 * One answer written on the front door's connection, as node:http's ServerResponse writes it
 * for a keep-alive HTTP/1.1 request: the status line and the headers given, then Date (unless
 * given), Connection and Keep-Alive, then Transfer-Encoding: chunked when the body has no
 * Content-Length (or a Content-Length, when the whole body comes with the end). The status
 * and headers are written as given: the upstream's were checked as they were read
 * (ResponseParser), and the others are the proxy's own.
 */
class SocketAnswer implements ClientAnswer {
  private written = Written.Nothing;
  private head = '';
  private hasLength = false;
  private hasDate = false;
  private noBody = false;
  private chunked = false;
  /** What write() and end() gave and send() has not written yet: latin1 text and bytes, in order. */
  private readonly held: (string | Buffer)[] = [];
  private heldBytes = 0;
  private closeListener: (() => void) | undefined;

  constructor(
    private readonly connection: FrontConnection,
    private readonly socket: Socket,
    private readonly close: boolean,
    /** The server's keepAliveTimeout, in ms. */
    private readonly keepAliveMs: number,
  ) {}

  writeHead(status: number, reason: string, headers: string[]): void {
    if (this.written !== Written.Nothing) throw new Error('the answer has its head already');
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new RangeError(`invalid status code ${status}`);
    let head = `HTTP/1.1 ${status} ${reason || STATUS_CODES[status] || 'unknown'}\r\n`;
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i] as string;
      const value = headers[i + 1] as string;
      if (name.length === 14 && name.toLowerCase() === 'content-length') this.hasLength = true;
      else if (name.length === 4 && name.toLowerCase() === 'date') this.hasDate = true;
      head += `${name}: ${value}\r\n`;
    }
    this.head = head;
    this.noBody = status === 204 || status === 304 || status < 200;
    this.written = Written.HeadHeld;
  }

  json(status: number, text: string): void {
    this.writeHead(status, '', ['content-type', 'application/json']);
    this.end(text);
  }

  write(chunk: Buffer): boolean {
    if (this.written === Written.Ended) return false;
    const prefix = this.written === Written.HeadHeld ? this.sealHead(undefined) : '';
    if (prefix !== '') this.hold(prefix);
    if (!this.noBody && chunk.length > 0) {
      if (this.chunked) this.hold(`${chunk.length.toString(16)}\r\n`);
      this.hold(chunk);
      if (this.chunked) this.hold('\r\n');
    }
    return !this.socket.writableNeedDrain;
  }

  flush(): void {
    if (this.held.length > 0) this.send('');
  }

  flushHeaders(): void {
    if (this.written === Written.HeadHeld) this.send(this.sealHead(undefined));
  }

  end(text?: string): void {
    if (this.written === Written.Ended) return;
    if (this.written === Written.Nothing) this.writeHead(200, '', []);
    const data = text === undefined || text === '' || this.noBody ? undefined : Buffer.from(text, 'utf8');
    const prefix = this.written === Written.HeadHeld ? this.sealHead(data?.length ?? 0) : '';
    this.written = Written.Ended;
    if (this.chunked) {
      if (data !== undefined) this.hold(`${prefix}${data.length.toString(16)}\r\n`).hold(data).hold('\r\n0\r\n\r\n');
      else this.hold(prefix).hold('0\r\n\r\n');
    } else if (data !== undefined) this.hold(prefix).hold(data);
    else this.hold(prefix);
    this.send('');
    this.connection.answered(this.close);
  }

  destroy(): void {
    this.written = Written.Ended;
    this.held.length = 0;
    this.heldBytes = 0;
    this.socket.destroy();
  }

  onClose(listener: () => void): void {
    this.closeListener = listener;
  }

  onDrain(listener: () => void): void {
    this.socket.once('drain', listener);
  }

  get finished(): boolean {
    return this.written === Written.Ended;
  }

  /** The connection closed: said to whoever listens if the answer had not ended. */
  clientClosed(): void {
    const listener = this.closeListener;
    this.closeListener = undefined;
    if (this.written !== Written.Ended) listener?.();
  }

  /** Keeps `part` (latin1 text, or bytes valid until the next send) for the next send; empty text is nothing. */
  private hold(part: string | Buffer): this {
    if (part.length > 0) {
      this.held.push(part);
      this.heldBytes += part.length;
    }
    return this;
  }

  /**
   * Writes what is held, then `last` (latin1), in one write: what one read from the upstream
   * brings (the head, its chunks, the end) goes out in one system call, as one buffer of its
   * own, since what is held may be a view into a buffer the next read reuses.
   */
  private send(last: string): void {
    const held = this.held;
    const socket = this.socket;
    if (held.length === 0) {
      if (last !== '' && socket.writable) socket.write(last, 'latin1');
      return;
    }
    const out = Buffer.allocUnsafe(this.heldBytes + last.length);
    let at = 0;
    for (const part of held) at += typeof part === 'string' ? out.write(part, at, 'latin1') : part.copy(out, at);
    if (last !== '') out.write(last, at, 'latin1');
    held.length = 0;
    this.heldBytes = 0;
    if (socket.writable) socket.write(out);
  }

  /** The head to send, ended, its framing decided: `endLength` is the whole body's when it comes with the end. */
  private sealHead(endLength: number | undefined): string {
    let head = this.head;
    if (!this.hasDate) head += `Date: ${httpDate()}\r\n`;
    if (this.close) head += 'Connection: close\r\n';
    else {
      head += 'Connection: keep-alive\r\n';
      if (this.keepAliveMs > 0) head += `Keep-Alive: timeout=${Math.floor(this.keepAliveMs / 1000)}\r\n`;
    }
    if (!this.noBody && !this.hasLength) {
      if (endLength !== undefined) head += `Content-Length: ${endLength}\r\n`;
      else {
        head += 'Transfer-Encoding: chunked\r\n';
        this.chunked = true;
      }
    }
    this.head = '';
    this.written = Written.HeadSent;
    return `${head}\r\n`;
  }
}

function noop(): void {}
