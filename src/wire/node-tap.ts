import { ServerResponse, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { SlotList } from '../core/slot-list.js';
import { CLIENT_GONE, type AnswerHead, type BodyWatch } from './exchange.js';

type WriteHead = ServerResponse['writeHead'];
type Write = ServerResponse['write'];
type End = ServerResponse['end'];

const headerText = (value: OutgoingHttpHeader | undefined): string | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value.join(', ') : String(value);

/**
 * A header as writeHead was given it (an object, or a flat [name, value, ...] list), by its
 * lower-case name: looked up when asked, no map built per answer.
 */
function givenHeader(given: unknown, name: string): string | undefined {
  if (typeof given !== 'object' || given === null) return undefined;
  if (Array.isArray(given)) {
    for (let i = 0; i + 1 < given.length; i += 2) if (String(given[i]).toLowerCase() === name) return String(given[i + 1]);
    return undefined;
  }
  // Walked, not looked up by name: a name it lacks ('content-type' where the SDK writes
  // 'Content-Type') would be a lookup that misses V8's caches, 3,000 instructions under express.
  const headers = given as OutgoingHttpHeaders;
  for (const key in headers) if (key.length === name.length && (key === name || key.toLowerCase() === name)) return headerText(headers[key]);
  return undefined;
}

/** One answer being watched: what tapResponse keeps per response (shared functions find it by the response). */
class Tap {
  headed = false;
  over = false;
  /** The handler flushed the head and nothing has gone out since: it leaves by the next turn of the event loop, or with the body (see tapPrototype). */
  flushWanted = false;
  watch: BodyWatch | undefined;
  /** Whether the watch reads the body. */
  decoding = false;
  /** Made when a chunk ends inside a character: from then on the decoder's state is needed. */
  decoder: StringDecoder | undefined;
  whole: string[] | undefined;
  /** The answers of its connection not over yet, this one among them until it is. */
  connection: SlotList<Tap> | undefined;
  /** Its place among them (see SlotList). */
  slot = -1;
  constructor(
    public answered: (head: AnswerHead) => BodyWatch | undefined,
    readonly writeHead: WriteHead,
    readonly write: Write,
    readonly end: End,
    /** Tapped on the response's own methods (somebody wrapped them first), not through the prototype. */
    readonly own: boolean,
  ) {}

  head(res: ServerResponse, status: number, given?: unknown): void {
    if (this.headed) return;
    this.headed = true;
    const watch = this.answered({ status, header: (name) => givenHeader(given, name) ?? headerText(res.getHeader(name)) });
    this.watch = watch;
    if (watch === undefined) return;
    this.decoding = watch.chunk !== undefined || watch.whole !== undefined;
    if (watch.whole) this.whole = [];
    watch.hold?.(() => res.destroy());
  }

  see(chunk: unknown, encoding: unknown): void {
    if (!this.decoding || chunk === undefined || chunk === null || typeof chunk === 'function') return;
    let text: string;
    if (typeof chunk === 'string') {
      text = typeof encoding === 'string' && encoding !== 'utf8' && encoding !== 'utf-8' ? Buffer.from(chunk, encoding as BufferEncoding).toString('utf8') : chunk;
    } else {
      const bytes = chunk as Uint8Array;
      // A chunk that ends on an ASCII byte ends on a character: decoded by itself, with no
      // decoder state (an SSE frame always ends so). The decoder takes over for good otherwise.
      if (this.decoder === undefined && bytes.length > 0 && (bytes[bytes.length - 1] as number) < 0x80) text = utf8(bytes);
      else {
        this.decoder ??= new StringDecoder('utf8');
        text = this.decoder.write(bytes);
      }
    }
    if (text === '') return;
    if (this.whole) this.whole.push(text);
    else this.watch?.chunk?.(text);
  }

  /** The answer is over: the response's tapped methods pass every call straight on from now on. */
  finish(cancelled: boolean): void {
    if (this.over) return;
    this.over = true;
    if (!this.headed) {
      // The client went away before any answer: a request it left pending.
      this.headed = true;
      this.answered(CLIENT_GONE);
    } else {
      if (cancelled) this.watch?.cancel?.();
      this.watch?.end?.();
    }
    // Let go of the exchange (the request, its body, the watch) now, not when the response is
    // collected: the tap stays (the response's methods pass through it), and a tap that held
    // the exchange would carry the whole request through young-generation collections.
    this.flushWanted = false;
    this.answered = FORGOTTEN;
    this.watch = undefined;
    this.whole = undefined;
    this.connection?.delete(this);
    this.connection = undefined;
  }
}

const FORGOTTEN = (): undefined => undefined;

/** UTF-8 bytes as a string, without copying them into a Buffer first. */
const utf8Slice = Buffer.prototype.utf8Slice as (this: Uint8Array, start: number, end: number) => string;
const utf8 = (bytes: Uint8Array): string => utf8Slice.call(bytes, 0, bytes.length);

/**
 * Where a watched response keeps its tap. A response of node:http's own class keeps it
 * itself, under a symbol nothing else knows (Object.keys, for...in and JSON pass over
 * symbols): every response is a young object, and putting one in an old WeakMap takes V8's
 * ephemeron write barrier and the table's upkeep in the young-generation collections after
 * it, about 1% of a session's CPU behind the SDK v1's node server (perf). Any other response
 * (express gives each one its app's prototype) goes in the WeakMap: a property added to one
 * of those makes V8 build a new hidden class for every response. Each is looked for in the
 * other place too, so a response whose prototype changes after it was tapped (node:http in
 * front of an express app) stays watched.
 */
const TAP = Symbol('mcp-exporter.tap');
type Tapped = ServerResponse & { [TAP]?: Tap };
const taps = new WeakMap<ServerResponse, Tap>();
const PLAIN: object = ServerResponse.prototype;

/** The tap of a response (`plain`: its prototype is node:http's own), looked for first where it would be kept. */
function tapIn(res: ServerResponse, plain: boolean): Tap | undefined {
  if (plain) return (res as Tapped)[TAP] ?? taps.get(res);
  return taps.get(res) ?? (Object.hasOwn(res, TAP) ? (res as Tapped)[TAP] : undefined);
}

const tapOf = (res: ServerResponse): Tap | undefined => tapIn(res, Object.getPrototypeOf(res) === PLAIN);

/**
 * Whether somebody wrote methods of their own onto the response (a compression middleware).
 * On a response of node:http's own class, by comparing them with its prototype's: three
 * loads V8 caches, where three Object.hasOwn calls cost 0.25 µs a request (perf). On any
 * other (express), by Object.hasOwn: a property read on those misses V8's caches.
 */
function wrappedFirst(res: ServerResponse, plain: boolean): boolean {
  if (plain) {
    const proto = PLAIN as ServerResponse;
    return res.writeHead !== proto.writeHead || res.write !== proto.write || res.end !== proto.end;
  }
  return Object.hasOwn(res, 'writeHead') || Object.hasOwn(res, 'write') || Object.hasOwn(res, 'end');
}

// What the tapped methods do, given the response's tap (found once per call). A response
// from express has a prototype set per request, so V8 caches nothing about it: every
// property read on it is a full lookup (1,000 to 5,000 instructions), and none is made here
// that the answer does not need (its status only while there was no head).
function writeHeadThrough(tap: Tap, res: ServerResponse, args: unknown[]): unknown {
  if (!tap.over) tap.head(res, args[0] as number, args.length > 1 ? args[args.length - 1] : undefined);
  return (tap.writeHead as (...args: unknown[]) => unknown).apply(res, args);
}

function writeThrough(tap: Tap, res: ServerResponse, chunk: unknown, encoding: unknown, callback: unknown): unknown {
  if (!tap.over) {
    if (!tap.headed) tap.head(res, res.statusCode);
    tap.flushWanted = false;
    tap.see(chunk, encoding);
  }
  return (tap.write as (...args: unknown[]) => unknown).call(res, chunk, encoding, callback);
}

function endThrough(tap: Tap, res: ServerResponse, chunk: unknown, encoding: unknown, callback: unknown): unknown {
  if (!tap.over) {
    if (!tap.headed) tap.head(res, res.statusCode);
    tap.flushWanted = false;
    tap.see(chunk, encoding);
    if (tap.whole) {
      const text = tap.whole.length === 1 && tap.decoder === undefined ? (tap.whole[0] as string) : tap.whole.join('') + (tap.decoder?.end() ?? '');
      tap.whole = undefined;
      tap.watch?.whole?.(text);
    } else if (tap.decoder !== undefined) {
      const rest = tap.decoder.end();
      if (rest !== '') tap.watch?.chunk?.(rest);
    }
    tap.finish(false);
  }
  return (tap.end as (...args: unknown[]) => unknown).call(res, chunk, encoding, callback);
}

// Written onto a response whose methods somebody wrapped first: `this` is the response.
function tappedWriteHead(this: ServerResponse, ...args: unknown[]): unknown {
  return writeHeadThrough(tapOf(this) as Tap, this, args);
}
function tappedWrite(this: ServerResponse, chunk: unknown, encoding: unknown, callback: unknown): unknown {
  return writeThrough(tapOf(this) as Tap, this, chunk, encoding, callback);
}
function tappedEnd(this: ServerResponse, chunk: unknown, encoding: unknown, callback: unknown): unknown {
  return endThrough(tapOf(this) as Tap, this, chunk, encoding, callback);
}

/**
 * The answers of each connection that are not over yet: one at a time, unless its requests
 * were pipelined. Its close ends them: the client went away, or the handler destroyed the
 * socket. A listener on the connection, added once, instead of one on every response: adding
 * one reads the response's listener fields, 4,500 instructions a request under express. A
 * SlotList, not a Set: a kept-alive connection's answers come and go with every request.
 */
const openOn = new WeakMap<Socket, SlotList<Tap>>();

function connectionClosed(this: Socket): void {
  const open = openOn.get(this);
  if (open === undefined) return;
  openOn.delete(this);
  for (const tap of open.toArray()) tap.finish(true);
}

/**
 * The methods every node:http response has, wrapped once for all of them (installed with the
 * first tap): a response with a tap goes through it, any other straight on. Writing three
 * methods onto each response instead cost 30,000 to 40,000 instructions a request in
 * express, which gives every response a prototype of its own: V8 made new hidden classes
 * for each one and missed its inline caches.
 */
let prototypeOriginals: { writeHead: WriteHead; write: Write; end: End; flushHeaders: () => void } | undefined;
function tapPrototype(): { writeHead: WriteHead; write: Write; end: End } {
  if (prototypeOriginals) return prototypeOriginals;
  const proto = ServerResponse.prototype;
  const original = { writeHead: proto.writeHead, write: proto.write, end: proto.end, flushHeaders: proto.flushHeaders };
  prototypeOriginals = original;
  proto.writeHead = function (this: ServerResponse, ...args: unknown[]): unknown {
    const tap = tapOf(this);
    if (tap === undefined || tap.own) return (original.writeHead as (...args: unknown[]) => unknown).apply(this, args);
    return writeHeadThrough(tap, this, args);
  } as WriteHead;
  // write and end take at most three arguments: passed as they are, with no list made per call.
  const through = (name: 'write' | 'end', tapped: typeof writeThrough) =>
    function (this: ServerResponse, chunk: unknown, encoding: unknown, callback: unknown): unknown {
      const tap = tapOf(this);
      if (tap === undefined || tap.own) return (original[name] as (...args: unknown[]) => unknown).call(this, chunk, encoding, callback);
      return tapped(tap, this, chunk, encoding, callback);
    };
  proto.write = through('write', writeThrough) as Write;
  proto.end = through('end', endThrough) as End;
  // A head flushed before its body (the SDK v1's node transport flushes every SSE answer's)
  // waits for the body if it comes within this turn of the event loop, and goes alone by the
  // next one otherwise: one write per answer instead of two, the same bytes, and a client
  // still told at once that a slow answer has begun. Only once writeHead has made the head,
  // so headersSent reads as it did.
  proto.flushHeaders = function (this: ServerResponse): void {
    const tap = tapOf(this);
    if (tap === undefined || tap.own || tap.over || !this.headersSent) return original.flushHeaders.call(this);
    if (tap.flushWanted) return;
    tap.flushWanted = true;
    setImmediate(flushIfWanted, this, tap);
  };
  return original;
}

function flushIfWanted(res: ServerResponse, tap: Tap): void {
  if (!tap.flushWanted) return;
  tap.flushWanted = false;
  prototypeOriginals?.flushHeaders.call(res);
}

/**
 * Watches a node:http answer written by somebody else's handler (the SDK v1 transport's
 * `handleRequest`, an express route): `answered` gets the head before any of the body
 * leaves (CLIENT_GONE if the client leaves first), and the watch it returns sees each
 * chunk before it is written. Nothing the handler writes is changed (a head it flushes
 * before its body leaves with the body's first bytes if they follow within the same turn of
 * the event loop, alone by the next turn otherwise); once the answer is over, the tapped
 * methods pass every call straight on. A response whose methods somebody
 * wrapped already (a compression middleware) is tapped on its own methods, outside theirs,
 * so the tap reads what the handler wrote; any other through its prototype.
 */
export function tapResponse(res: ServerResponse, socket: Socket, answered: (head: AnswerHead) => BodyWatch | undefined): void {
  // Its prototype, read once: where its tap is looked for and kept, and how its own methods are found.
  const plain = Object.getPrototypeOf(res) === PLAIN;
  if (tapIn(res, plain) !== undefined) return;
  const own = wrappedFirst(res, plain);
  const methods = own ? { writeHead: res.writeHead, write: res.write, end: res.end } : tapPrototype();
  const tap = new Tap(answered, methods.writeHead, methods.write, methods.end, own);
  if (plain) (res as Tapped)[TAP] = tap;
  else taps.set(res, tap);
  if (own) {
    res.writeHead = tappedWriteHead as WriteHead;
    res.write = tappedWrite as Write;
    res.end = tappedEnd as End;
  }
  if (socket.destroyed) {
    // The client left while the request was read: nothing will answer it.
    tap.finish(true);
    return;
  }
  let open = openOn.get(socket);
  if (open === undefined) {
    open = new SlotList();
    openOn.set(socket, open);
    socket.on('close', connectionClosed);
  }
  open.add(tap);
  tap.connection = open;
}
