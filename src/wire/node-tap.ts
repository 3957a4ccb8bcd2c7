import { ServerResponse, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { CLIENT_GONE, type AnswerHead, type BodyWatch } from './exchange.js';

type Chunk = string | Uint8Array;
type Callback = (error?: Error | null) => void;
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
  const headers = given as OutgoingHttpHeaders;
  const exact = headers[name];
  if (exact !== undefined) return headerText(exact);
  for (const key in headers) if (key.length === name.length && key.toLowerCase() === name) return headerText(headers[key]);
  return undefined;
}

/** One answer being watched: what tapResponse keeps per response (shared functions find it by the response). */
class Tap {
  headed = false;
  over = false;
  watch: BodyWatch | undefined;
  /** Whether the watch reads the body. */
  decoding = false;
  /** Made when a chunk ends inside a character: from then on the decoder's state is needed. */
  decoder: StringDecoder | undefined;
  whole: string[] | undefined;
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
    this.answered = FORGOTTEN;
    this.watch = undefined;
    this.whole = undefined;
  }
}

const FORGOTTEN = (): undefined => undefined;

/** UTF-8 bytes as a string, without copying them into a Buffer first. */
const utf8Slice = Buffer.prototype.utf8Slice as (this: Uint8Array, start: number, end: number) => string;
const utf8 = (bytes: Uint8Array): string => utf8Slice.call(bytes, 0, bytes.length);

/** The taps of responses being watched now. */
const taps = new WeakMap<ServerResponse, Tap>();

// One function each for every response (no closures per request): `this` is the response.
function tappedWriteHead(this: ServerResponse, status: number, ...rest: unknown[]): ServerResponse {
  const tap = taps.get(this) as Tap;
  if (!tap.over) tap.head(this, status, rest[rest.length - 1]);
  return (tap.writeHead as (...args: unknown[]) => ServerResponse).call(this, status, ...rest);
}

function tappedWrite(this: ServerResponse, chunk: Chunk, encoding?: BufferEncoding | Callback, callback?: Callback): boolean {
  const tap = taps.get(this) as Tap;
  if (!tap.over) {
    tap.head(this, this.statusCode);
    tap.see(chunk, encoding);
  }
  return (tap.write as (...args: unknown[]) => boolean).call(this, chunk, encoding, callback);
}

function tappedEnd(this: ServerResponse, chunk?: Chunk | (() => void), encoding?: BufferEncoding | (() => void), callback?: () => void): ServerResponse {
  const tap = taps.get(this) as Tap;
  if (!tap.over) {
    tap.head(this, this.statusCode);
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
  return (tap.end as (...args: unknown[]) => ServerResponse).call(this, chunk, encoding, callback);
}

/** The client went away (or the handler destroyed the socket) before the answer ended. */
function closed(this: ServerResponse): void {
  taps.get(this)?.finish(!this.writableFinished);
}

/**
 * The methods every node:http response has, wrapped once for all of them (installed with the
 * first tap): a response with a tap goes through it, any other straight on. Writing three
 * methods onto each response instead cost 30,000 to 40,000 instructions a request in
 * express, which gives every response a prototype of its own: V8 made new hidden classes
 * for each one and missed its inline caches.
 */
let prototypeOriginals: { writeHead: WriteHead; write: Write; end: End } | undefined;
function tapPrototype(): { writeHead: WriteHead; write: Write; end: End } {
  if (prototypeOriginals) return prototypeOriginals;
  const proto = ServerResponse.prototype;
  const original = { writeHead: proto.writeHead, write: proto.write, end: proto.end };
  prototypeOriginals = original;
  const through = (name: 'writeHead' | 'write' | 'end', tapped: (...args: never[]) => unknown) =>
    function (this: ServerResponse, ...args: unknown[]): unknown {
      const tap = taps.get(this);
      if (tap === undefined || tap.own) return (original[name] as (...args: unknown[]) => unknown).apply(this, args);
      return (tapped as (...args: unknown[]) => unknown).apply(this, args);
    };
  proto.writeHead = through('writeHead', tappedWriteHead) as WriteHead;
  proto.write = through('write', tappedWrite) as Write;
  proto.end = through('end', tappedEnd) as End;
  return original;
}

/**
 * Watches a node:http answer written by somebody else's handler (the SDK v1 transport's
 * `handleRequest`, an express route): `answered` gets the head before any of the body
 * leaves (CLIENT_GONE if the client leaves first), and the watch it returns sees each
 * chunk before it is written. Nothing the handler writes is changed; once the answer is
 * over, the tapped methods pass every call straight on. A response whose methods somebody
 * wrapped already (a compression middleware) is tapped on its own methods, outside theirs,
 * so the tap reads what the handler wrote; any other through its prototype.
 */
export function tapResponse(res: ServerResponse, answered: (head: AnswerHead) => BodyWatch | undefined): void {
  if (taps.has(res)) return;
  const own = Object.hasOwn(res, 'writeHead') || Object.hasOwn(res, 'write') || Object.hasOwn(res, 'end');
  if (own) {
    const { writeHead, write, end } = res;
    taps.set(res, new Tap(answered, writeHead, write, end, true));
    res.writeHead = tappedWriteHead as WriteHead;
    res.write = tappedWrite as Write;
    res.end = tappedEnd as End;
  } else {
    const original = tapPrototype();
    taps.set(res, new Tap(answered, original.writeHead, original.write, original.end, false));
  }
  res.on('close', closed);
}
