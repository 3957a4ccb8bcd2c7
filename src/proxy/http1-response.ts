/**
 * An HTTP/1.1 response read as its bytes arrive, for the proxy's relay: the head parsed once,
 * the body's framing (Content-Length, chunked, or until the connection closes) followed so
 * the body's own bytes come out as they arrive, and whether the connection can carry the
 * next request. Framing it cannot be sure of is an error, never a guess: a proxy that guesses
 * where one answer ends can hand one client another's answer.
 */
import { headerLines, isFieldValue } from '../http/http-chars.js';

/** The head of an answer, as received. */
export interface ResponseHead {
  status: number;
  /** The reason phrase, possibly empty. */
  reason: string;
  /** The headers as received: name, value, name, value, ... */
  raw: string[];
  /** The headers' names in lower case, in the same order (one for each pair of raw). */
  names: string[];
  /** A header's first value, by its lower-case name. */
  header(name: string): string | undefined;
}

/** What the parser finds, in order: one head, the body's bytes, the end. */
export interface ResponseEvents {
  head(head: ResponseHead): void;
  body(chunk: Buffer): void;
  end(): void;
}

/** A response this parser will not relay; `code` is what the relay reports (as node:http's parser errors do). */
export class ResponseParseError extends Error {
  readonly code = 'HPE_INVALID_RESPONSE';
}

/** node:http's limit on a head (its default maxHeaderSize). */
export const MAX_HEAD_BYTES = 16_384;
/** A chunk-size line (with extensions) or a trailer line longer than this is refused. */
const MAX_LINE_BYTES = 4096;

const CRLF = Buffer.from('\r\n');
const END_OF_HEAD = Buffer.from('\r\n\r\n');
const DIGITS = /^\d+$/;
const HEX = /^[0-9a-fA-F]+$/;

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  UntilClose,
  Done,
}

class Head implements ResponseHead {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly raw: string[],
    readonly names: string[],
  ) {}

  header(name: string): string | undefined {
    const at = this.names.indexOf(name);
    return at < 0 ? undefined : this.raw[2 * at + 1];
  }

}

export class ResponseParser {
  private state = State.Head;
  /** Bytes of a head or line not complete yet. */
  private pending: Buffer | undefined;
  /** Body bytes still to come, of the Content-Length or of the chunk. */
  private left = 0;
  private reusable = false;
  /** How long the upstream keeps an idle connection (its Keep-Alive timeout), in ms, when it says. */
  keepAliveMs: number | undefined;

  /** `noBody`: the request was a HEAD, whose answer has a head only. */
  constructor(
    private readonly events: ResponseEvents,
    private readonly noBody = false,
  ) {}

  /** The whole response arrived. */
  get done(): boolean {
    return this.state === State.Done;
  }

  /** Whether the connection can carry another request: the response is done, framed, and nothing followed it. */
  get reusableNow(): boolean {
    return this.state === State.Done && this.reusable && this.pending === undefined;
  }

  /** Takes the next bytes; the events fire before it returns, and nothing keeps a view into `data` after. Throws a ResponseParseError on what it will not relay. */
  push(data: Buffer): void {
    let buf = data;
    if (this.pending !== undefined) {
      buf = Buffer.concat([this.pending, data]);
      this.pending = undefined;
    }
    let at = 0;
    while (at < buf.length) {
      switch (this.state) {
        case State.Head: {
          const end = buf.indexOf(END_OF_HEAD, at);
          if (end < 0 || end - at > MAX_HEAD_BYTES) return this.keep(buf, at, MAX_HEAD_BYTES, 'a head over 16 KiB');
          this.readHead(buf.toString('latin1', at, end));
          at = end + 4;
          break;
        }
        case State.Length:
        case State.ChunkData: {
          const n = Math.min(this.left, buf.length - at);
          this.left -= n;
          const chunk = buf.subarray(at, at + n);
          at += n;
          if (this.left === 0) this.state = this.state === State.Length ? State.Done : State.ChunkEnd;
          this.events.body(chunk);
          if (this.state === State.Done) this.events.end();
          break;
        }
        case State.ChunkSize: {
          const eol = buf.indexOf(CRLF, at);
          if (eol < 0 || eol - at > MAX_LINE_BYTES) return this.keep(buf, at, MAX_LINE_BYTES, 'a chunk-size line over 4 KiB');
          const line = buf.toString('latin1', at, eol);
          const semicolon = line.indexOf(';');
          const hex = (semicolon < 0 ? line : line.slice(0, semicolon)).trim();
          if (!HEX.test(hex) || hex.length > 12) throw new ResponseParseError(`bad chunk size "${hex.slice(0, 16)}"`);
          this.left = parseInt(hex, 16);
          at = eol + 2;
          this.state = this.left === 0 ? State.Trailers : State.ChunkData;
          break;
        }
        case State.ChunkEnd: {
          if (buf.length - at < 2) return this.keep(buf, at, 2, '');
          if (buf[at] !== 13 || buf[at + 1] !== 10) throw new ResponseParseError('a chunk not followed by CRLF');
          at += 2;
          this.state = State.ChunkSize;
          break;
        }
        case State.Trailers: {
          const eol = buf.indexOf(CRLF, at);
          if (eol < 0 || eol - at > MAX_LINE_BYTES) return this.keep(buf, at, MAX_LINE_BYTES, 'a trailer line over 4 KiB');
          const empty = eol === at;
          at = eol + 2;
          // Trailers are dropped, as node:http's relay dropped them; the empty line ends the body.
          if (empty) {
            this.state = State.Done;
            this.events.end();
          }
          break;
        }
        case State.UntilClose: {
          const chunk = at === 0 ? buf : buf.subarray(at);
          at = buf.length;
          this.events.body(chunk);
          break;
        }
        case State.Done:
          // Bytes after the answer, unasked: this connection carries nothing more.
          this.reusable = false;
          return;
      }
    }
  }

  /**
   * The connection closed. An answer that runs until the close is complete; true when the
   * answer had ended (by its framing or so), false when it was cut short.
   */
  close(): boolean {
    if (this.state === State.UntilClose) {
      this.state = State.Done;
      this.events.end();
      return true;
    }
    return this.state === State.Done;
  }

  /** Keeps a copy of the bytes from `at` for the next push (the pushed buffer may be reused), unless there are more than `limit` of them. */
  private keep(buf: Buffer, at: number, limit: number, what: string): void {
    if (buf.length - at > limit) throw new ResponseParseError(`the upstream sent ${what}`);
    this.pending = Buffer.from(buf.subarray(at));
  }

  private readHead(text: string): void {
    const eol = text.indexOf('\r\n');
    const status = statusOf(eol < 0 ? text : text.slice(0, eol));
    if (status === undefined) throw new ResponseParseError('not an HTTP/1.x status line');
    const lines = headerLines(text, eol < 0 ? text.length : eol + 2);
    if (lines === undefined) throw new ResponseParseError('a malformed header line');
    const { raw, names } = lines;
    // The framing headers; the answer's own names are read as they come.
    let connection = '';
    let codings: string | undefined;
    let lengths: string | undefined;
    let keepAlive: string | undefined;
    for (let i = 0; i < names.length; i++) {
      const lower = names[i] as string;
      const value = raw[2 * i + 1] as string;
      if (lower === 'connection') connection += `,${value.toLowerCase()}`;
      else if (lower === 'transfer-encoding') codings = codings === undefined ? value : `${codings},${value}`;
      else if (lower === 'content-length') lengths = lengths === undefined ? value : `${lengths},${value}`;
      else if (lower === 'keep-alive') keepAlive ??= value;
    }
    const code = status.code;
    if (code < 200) {
      // 100 Continue, 103 Early Hints: interim, the answer follows. 101 was never asked for.
      if (code === 101) throw new ResponseParseError('an upgrade nobody asked for');
      return;
    }
    this.reusable = status.minor === 1 && !/(?:^|[\s,])close(?:$|[\s,])/.test(connection);
    const timeout = keepAlive === undefined ? undefined : /timeout\s*=\s*(\d+)/i.exec(keepAlive)?.[1];
    if (timeout !== undefined) this.keepAliveMs = Number(timeout) * 1000;
    if (this.noBody || code === 204 || code === 304) {
      this.state = State.Done;
    } else if (codings !== undefined) {
      // Both framings in one answer is how requests are smuggled: refused, not resolved.
      if (lengths !== undefined) throw new ResponseParseError('both Transfer-Encoding and Content-Length');
      const last = codings.slice(codings.lastIndexOf(',') + 1).trim().toLowerCase();
      if (last === 'chunked') this.state = State.ChunkSize;
      else {
        this.state = State.UntilClose;
        this.reusable = false;
      }
    } else if (lengths !== undefined) {
      const values = new Set(lengths.split(',').map((value) => value.trim()));
      const [only] = values;
      if (values.size !== 1 || only === undefined || !DIGITS.test(only) || !Number.isSafeInteger(Number(only))) throw new ResponseParseError('a bad Content-Length');
      this.left = Number(only);
      this.state = this.left === 0 ? State.Done : State.Length;
    } else {
      this.state = State.UntilClose;
      this.reusable = false;
    }
    this.events.head(new Head(code, status.reason, raw, names));
    if (this.state === State.Done) this.events.end();
  }
}

/** `HTTP/1.x NNN reason`: the minor version, the code and the reason; undefined for anything else. */
function statusOf(line: string): { minor: number; code: number; reason: string } | undefined {
  if (!line.startsWith('HTTP/1.') || line.length < 12 || line.charCodeAt(8) !== 32) return undefined;
  const minor = line.charCodeAt(7) - 48;
  if (minor !== 0 && minor !== 1) return undefined;
  let code = 0;
  for (let i = 9; i < 12; i++) {
    const digit = line.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    code = code * 10 + digit;
  }
  if (code < 100) return undefined;
  if (line.length > 12 && line.charCodeAt(12) !== 32) return undefined;
  const reason = line.slice(13);
  return isFieldValue(reason) ? { minor, code, reason } : undefined;
}
