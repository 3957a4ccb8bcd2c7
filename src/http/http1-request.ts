/**
 * The head of a client's request, read by the proxy's front door (front-door.ts) for the one
 * kind of request it relays itself: `POST <endpoint>` over HTTP/1.1 with a Content-Length.
 * Anything else, and anything it is not sure of, is not read here but handed to node:http's
 * server, which answers it as it always has (a malformed head with 400, a long one with 431):
 * this reader only has to be right about what it accepts, never about what it refuses.
 */
import { headerLines } from './http-chars.js';

/** The headers the monitor and the relay look up, by lower-case name; each was sent at most once. */
export type KnownHeaders = {
  host: string | undefined;
  'user-agent': string | undefined;
  'x-forwarded-for': string | undefined;
  'x-real-ip': string | undefined;
  'mcp-session-id': string | undefined;
  'mcp-protocol-version': string | undefined;
};

/** A request head the front door relays itself. */
export interface RequestHead {
  /** The headers as received: name, value, name, value, ... (values without the whitespace around them, as node:http's rawHeaders). */
  raw: string[];
  /** The headers' names in lower case, in the same order (one for each pair of raw). */
  names: string[];
  headers: KnownHeaders;
  /** The body's length in bytes. */
  contentLength: number;
  /** The client asked for the connection to close after the answer. */
  close: boolean;
}

/** A request target of the origin form: a path and query of visible ASCII. */
const ORIGIN_FORM = /^\/[\x21-\x7e]*$/;
const DIGITS = /^\d{1,15}$/;
const CLOSE = /(?:^|[\s,])close(?:$|[\s,])/i;
const UPGRADE = /(?:^|[\s,])upgrade(?:$|[\s,])/i;
const REQUEST_LINE_START = 'POST ';
const REQUEST_LINE_END = ' HTTP/1.1';

/** Whether bytes that may be the start of a request can still begin `POST `. */
export function mayBePost(buf: Buffer): boolean {
  const n = Math.min(buf.length, REQUEST_LINE_START.length);
  for (let i = 0; i < n; i++) if (buf[i] !== REQUEST_LINE_START.charCodeAt(i)) return false;
  return true;
}

/**
 * Reads a head (`text`: the bytes as latin1, from the request line to the last header line,
 * without the empty line) when it is a `POST` of `endpoint` the front door relays: HTTP/1.1,
 * one Content-Length of at most `maxBodyBytes`, no Transfer-Encoding, Expect, Upgrade or Origin
 * (CORS answers are node:http's path), no obsolete line folding, no character node:http would
 * refuse, and none of the headers looked up sent twice. Undefined for anything else.
 */
export function readRequestHead(text: string, endpoint: string, maxBodyBytes: number): RequestHead | undefined {
  const eol = text.indexOf('\r\n');
  const line = eol < 0 ? text : text.slice(0, eol);
  if (!line.startsWith(REQUEST_LINE_START) || !line.endsWith(REQUEST_LINE_END)) return undefined;
  const target = line.slice(REQUEST_LINE_START.length, line.length - REQUEST_LINE_END.length);
  const query = target.indexOf('?');
  if ((query < 0 ? target : target.slice(0, query)) !== endpoint || !ORIGIN_FORM.test(target)) return undefined;
  const lines = headerLines(text, eol < 0 ? text.length : eol + 2);
  if (lines === undefined) return undefined;
  const { raw, names } = lines;
  const headers: KnownHeaders = { host: undefined, 'user-agent': undefined, 'x-forwarded-for': undefined, 'x-real-ip': undefined, 'mcp-session-id': undefined, 'mcp-protocol-version': undefined };
  let length: string | undefined;
  let connection: string | undefined;
  for (let i = 0; i < names.length; i++) {
    const value = raw[2 * i + 1] as string;
    // A header KnownHeaders holds, named by the literal (a key cut from the head would be a
    // string V8 looks up in its string table on every store and load, and hashing each name
    // for a Map costs as much).
    let known: keyof KnownHeaders | undefined;
    switch (names[i]) {
      case 'content-length':
        if (length !== undefined) return undefined;
        length = value;
        continue;
      case 'connection':
        if (connection !== undefined) return undefined;
        connection = value;
        continue;
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
      case 'origin':
        return undefined;
      case 'host': known = 'host'; break;
      case 'user-agent': known = 'user-agent'; break;
      case 'x-forwarded-for': known = 'x-forwarded-for'; break;
      case 'x-real-ip': known = 'x-real-ip'; break;
      case 'mcp-session-id': known = 'mcp-session-id'; break;
      case 'mcp-protocol-version': known = 'mcp-protocol-version'; break;
      default: continue;
    }
    // Each at most once: node:http would join or drop a second, and the front door does neither.
    if (headers[known] !== undefined) return undefined;
    headers[known] = value;
  }
  // node:http refuses an HTTP/1.1 request without a Host.
  if (headers.host === undefined || length === undefined || !DIGITS.test(length)) return undefined;
  const contentLength = Number(length);
  if (contentLength > maxBodyBytes) return undefined;
  if (connection !== undefined && UPGRADE.test(connection)) return undefined;
  return { raw, names, headers, contentLength, close: connection !== undefined && CLOSE.test(connection) };
}
