import type { IncomingMessage, ServerResponse } from 'node:http';
import { JSONRPC, sendJsonRpcError } from './http-answers.js';

/** 4 MiB: the SDK's own default cap for a request body. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

export type BodyResult = { ok: true; text: string } | { ok: false; reason: 'too_large' | 'aborted'; size: number };

/** Reads a request body up to `maxBytes`; past that it stops reading and says so. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      // A body read to its end needs no unhooking: nothing more comes. One cut short does.
      if (!result.ok) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onAbort);
        req.off('aborted', onAbort);
      }
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        // Stop buffering; the caller answers 413 and drains the rest (drainRefused).
        req.pause();
        finish({ ok: false, reason: 'too_large', size });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish({ ok: true, text: Buffer.concat(chunks, size).toString('utf8') });
    const onAbort = (): void => finish({ ok: false, reason: 'aborted', size });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('aborted', onAbort);
  });
}

/**
 * How much of a refused body is still read and thrown away after the cap. A client (fetch
 * among them) that is still uploading when its 413 arrives sees that answer only if the
 * server keeps reading: closing the socket under its upload gives it EPIPE instead. Past
 * this much the connection is closed; the request timeout bounds the time it may take.
 */
export const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * Reads the rest of a refused body into nothing, up to `limit` more bytes; past that the
 * socket is destroyed. Returns false when the declared length is already past the limit:
 * the answer should then close the connection.
 */
export function drainRefused(req: IncomingMessage, alreadyRead: number, limit = DRAIN_LIMIT_BYTES): boolean {
  const declared = Number(req.headers['content-length']);
  if (declared - alreadyRead > limit) return false;
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > limit) req.socket.destroy();
  });
  req.on('error', () => {});
  req.resume();
  return true;
}

/** What readJsonBody needs to answer and count a bad body. */
export interface BodyRefusals {
  reject(reason: 'parse_error' | 'payload_too_large' | 'invalid_request'): void;
}

/**
 * Deepest nesting of arrays and objects a request may have. MCP messages are shallow; a body
 * nested thousands deep would exhaust the stack of whatever walks it next (the SDK's schema
 * check), so it is refused before anything parses it.
 */
export const MAX_JSON_DEPTH = 256;

/** Whether JSON text nests arrays and objects deeper than `max` (strings are skipped). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) return true;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return false;
}

/**
 * Reads and parses a JSON request body. A body over the cap gets 413, one that is not
 * JSON gets 400 with -32700; both are counted, and the result is then `undefined`
 * (a client that went away gets no answer). `{ body, text }` otherwise.
 */
export async function readJsonBody(
  req: IncomingMessage,
  res: ServerResponse,
  maxBytes: number,
  refusals: BodyRefusals,
): Promise<{ body: unknown; text: string } | undefined> {
  const tooLarge = (alreadyRead: number): undefined => {
    refusals.reject('payload_too_large');
    const keep = drainRefused(req, alreadyRead);
    sendJsonRpcError(res, 413, JSONRPC.serverError, `Payload too large: the limit is ${maxBytes} bytes`, keep ? {} : { Connection: 'close' });
    return undefined;
  };
  if (Number(req.headers['content-length']) > maxBytes) return tooLarge(0);
  const read = await readBody(req, maxBytes);
  if (!read.ok) return read.reason === 'too_large' ? tooLarge(read.size) : undefined;
  const parsed = parseJsonBody(read.text);
  if (parsed === TOO_DEEP) {
    refusals.reject('invalid_request');
    sendJsonRpcError(res, 400, JSONRPC.invalidRequest, `Invalid Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    return undefined;
  }
  if (parsed === NOT_JSON) {
    refusals.reject('parse_error');
    sendJsonRpcError(res, 400, JSONRPC.parseError, 'Parse error: the body is not valid JSON');
    return undefined;
  }
  return { body: parsed.body, text: read.text };
}

export const TOO_DEEP = 'too_deep';
export const NOT_JSON = 'not_json';

/** A request body's JSON, or why it is refused: nested deeper than MAX_JSON_DEPTH, or not JSON. */
export function parseJsonBody(text: string): { body: unknown } | typeof TOO_DEEP | typeof NOT_JSON {
  // Nesting deeper than the limit takes at least two characters a level: short bodies need no look.
  if (text.length > 2 * MAX_JSON_DEPTH && nestsDeeperThan(text, MAX_JSON_DEPTH)) return TOO_DEEP;
  try {
    return { body: JSON.parse(text) };
  } catch {
    return NOT_JSON;
  }
}

/** A node:http request whose body was read: its JSON and its text (both undefined for a GET or DELETE). */
export interface ReadRequest {
  body: unknown;
  text: string | undefined;
}

/**
 * The body of a node:http request, read once for whoever serves it: `given` when a body
 * parser (express.json()) made it already, else read here for a POST (a bad body is answered
 * and counted by readJsonBody, and the result is undefined).
 */
export async function readNodeRequest(req: IncomingMessage, res: ServerResponse, maxBytes: number, refusals: BodyRefusals, given?: unknown): Promise<ReadRequest | undefined> {
  if (given !== undefined) return { body: given, text: JSON.stringify(given) };
  if (req.method !== 'POST') return { body: undefined, text: undefined };
  return readJsonBody(req, res, maxBytes, refusals);
}
