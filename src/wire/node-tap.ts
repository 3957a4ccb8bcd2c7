import type { OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { AnswerHead, BodyWatch } from './exchange.js';

type Chunk = string | Uint8Array;
type Callback = (error?: Error | null) => void;

const headerText = (value: OutgoingHttpHeader | undefined): string | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value.join(', ') : String(value);

/** Headers given to writeHead as an object or as a flat [name, value, ...] list, by lower-case name. */
function headersOf(given: unknown): Map<string, string> | undefined {
  if (typeof given !== 'object' || given === null) return undefined;
  const map = new Map<string, string>();
  if (Array.isArray(given)) {
    for (let i = 0; i + 1 < given.length; i += 2) map.set(String(given[i]).toLowerCase(), String(given[i + 1]));
  } else {
    for (const [name, value] of Object.entries(given as OutgoingHttpHeaders)) {
      const text = headerText(value);
      if (text !== undefined) map.set(name.toLowerCase(), text);
    }
  }
  return map;
}

/**
 * Watches a node:http answer written by somebody else's handler (the SDK v1 transport's
 * `handleRequest`, an express route): `answered` gets the head before any of the body
 * leaves, and the watch it returns sees each chunk before it is written. Resolves once the
 * answer is over, finished or cut. Nothing the handler writes is changed.
 */
export function tapResponse(res: ServerResponse, answered: (head: AnswerHead) => BodyWatch | undefined): Promise<void> {
  return new Promise((resolve) => {
    let headed = false;
    let over = false;
    let watch: BodyWatch | undefined;
    let decoder: StringDecoder | undefined;
    let whole: string[] | undefined;
    const { writeHead, write, end } = res;

    const head = (status: number, given?: Map<string, string>): void => {
      if (headed) return;
      headed = true;
      watch = answered({ status, header: (name) => given?.get(name) ?? headerText(res.getHeader(name)) });
      if (watch?.chunk || watch?.whole) decoder = new StringDecoder('utf8');
      if (watch?.whole) whole = [];
      watch?.hold?.(() => res.destroy());
    };
    const see = (chunk: unknown, encoding: unknown): void => {
      if (!decoder || chunk === undefined || chunk === null || typeof chunk === 'function') return;
      const text = typeof chunk === 'string' ? (typeof encoding === 'string' && encoding !== 'utf8' && encoding !== 'utf-8' ? Buffer.from(chunk, encoding as BufferEncoding).toString('utf8') : chunk) : decoder.write(Buffer.from(chunk as Uint8Array));
      if (text === '') return;
      if (whole) whole.push(text);
      else watch?.chunk?.(text);
    };
    const finish = (cancelled: boolean): void => {
      if (over) return;
      over = true;
      res.writeHead = writeHead;
      res.write = write;
      res.end = end;
      if (cancelled) watch?.cancel?.();
      watch?.end?.();
      resolve();
    };

    res.writeHead = function (this: ServerResponse, status: number, ...rest: unknown[]) {
      head(status, headersOf(rest[rest.length - 1]));
      return (writeHead as (...args: unknown[]) => ServerResponse).call(this, status, ...rest);
    } as ServerResponse['writeHead'];
    res.write = function (this: ServerResponse, chunk: Chunk, encoding?: BufferEncoding | Callback, callback?: Callback) {
      head(res.statusCode);
      see(chunk, encoding);
      return (write as (...args: unknown[]) => boolean).call(this, chunk, encoding, callback);
    } as ServerResponse['write'];
    res.end = function (this: ServerResponse, chunk?: Chunk | (() => void), encoding?: BufferEncoding | (() => void), callback?: () => void) {
      head(res.statusCode);
      see(chunk, encoding);
      if (whole) {
        const rest = decoder?.end() ?? '';
        const text = whole.join('') + rest;
        whole = undefined;
        watch?.whole?.(text);
      } else if (decoder) {
        const rest = decoder.end();
        if (rest !== '') watch?.chunk?.(rest);
      }
      finish(false);
      return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, encoding, callback);
    } as ServerResponse['end'];
    // The client went away (or the handler destroyed the socket) before the answer ended.
    res.once('close', () => {
      if (!headed) {
        headed = true;
        watch = undefined;
      }
      finish(!res.writableFinished);
    });
  });
}
