import type { IncomingMessage, ServerResponse } from 'node:http';

/** The headers of a node:http request as web Headers (HTTP/2 pseudo-headers left out). */
function webHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  return headers;
}

const urlOf = (req: IncomingMessage): string => `http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`;

/**
 * A web-standard Request for a node:http request whose body was read already (`text`):
 * the URL from the Host header, every header, and a signal that aborts when the client
 * goes away before the answer is written.
 */
export function toWebRequest(req: IncomingMessage, res: ServerResponse, text: string | undefined): Request {
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const method = (req.method ?? 'GET').toUpperCase();
  return new Request(urlOf(req), {
    method,
    headers: webHeaders(req),
    signal: abort.signal,
    ...(text !== undefined && method !== 'GET' && method !== 'HEAD' ? { body: text } : {}),
  });
}

/** A Host header that is a host name or address and a port, as most are: its URL needs no parsing to be trusted. */
const PLAIN_HOST = /^[a-z0-9._-]+(?::(\d{1,5}))?$/i;

/**
 * The URL of a request as its Host header and target name it, or undefined when the Host
 * header does not name a host the way a URL would read it (`bad host`, `a/b`, `x:99999`):
 * the URL would then point somewhere else, or nowhere.
 */
function checkedUrlOf(req: IncomingMessage): string | undefined {
  const host = req.headers.host ?? 'localhost';
  const url = urlOf(req);
  const plain = PLAIN_HOST.exec(host);
  if (plain !== null && (plain[1] === undefined || Number(plain[1]) <= 65535)) return url;
  try {
    const parsed = new URL(url);
    const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
    return parsed.hostname === name.toLowerCase() && (parsed.port === '' || host.endsWith(`:${parsed.port}`)) ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A node:http request as a web-standard Request, for a handler that reads its method, URL
 * and headers and takes the body parsed (the SDK v1's WebStandardStreamableHTTPServerTransport
 * given `parsedBody`). Those three are made here; any other member (the body, the signal,
 * clone()) is read from a real Request, made from them and `text()` the first time one is
 * asked for. Making the real one for every request instead costs what the rest of the
 * request costs the monitor: undici's constructor takes 8 µs with no signal and no body,
 * 28 µs with a signal, 51 µs with both (measured, Node 20). Undefined when the Host header
 * names no host (see checkedUrlOf): the caller refuses the request.
 */
export function headOnlyRequest(req: IncomingMessage, text: () => string | undefined): Request | undefined {
  const url = checkedUrlOf(req);
  return url === undefined ? undefined : (new HeadOnlyRequest((req.method ?? 'GET').toUpperCase(), url, webHeaders(req), text) as unknown as Request);
}

class HeadOnlyRequest {
  #real: Request | undefined;
  constructor(
    readonly method: string,
    readonly url: string,
    readonly headers: Headers,
    private readonly bodyText: () => string | undefined,
  ) {}

  /** The real Request, made when first needed. */
  real(): Request {
    if (this.#real === undefined) {
      const body = this.method === 'GET' || this.method === 'HEAD' ? undefined : this.bodyText();
      this.#real = new Request(this.url, { method: this.method, headers: this.headers, ...(body === undefined ? {} : { body }) });
    }
    return this.#real;
  }
}

// `instanceof Request`, and every member of Request but the three above read from the real one.
// `real` and `bodyText` are the class's own, under names no Request member has.
Object.setPrototypeOf(HeadOnlyRequest.prototype, Request.prototype);
for (const key of Object.getOwnPropertyNames(Request.prototype)) {
  if (key === 'constructor' || key === 'method' || key === 'url' || key === 'headers') continue;
  const descriptor = Object.getOwnPropertyDescriptor(Request.prototype, key);
  if (descriptor?.get) {
    Object.defineProperty(HeadOnlyRequest.prototype, key, { get(this: HeadOnlyRequest) { return (this.real() as unknown as Record<string, unknown>)[key]; } });
  } else if (typeof descriptor?.value === 'function') {
    Object.defineProperty(HeadOnlyRequest.prototype, key, {
      value(this: HeadOnlyRequest, ...args: unknown[]) {
        const real = this.real() as unknown as Record<string, (...args: unknown[]) => unknown>;
        return (real[key] as (...args: unknown[]) => unknown).apply(real, args);
      },
    });
  }
}

/**
 * Writes a web-standard Response to a node:http response: status and headers, then the
 * body as it comes (SSE streams chunk by chunk, waiting for the socket to drain). An answer
 * whose body is there at once (most are) leaves in one write with its head; a stream that has
 * nothing to say by the next turn of the event loop sends its head alone, so that the client
 * knows it is answered, as the SDK's own node transport does. When the client goes away the
 * body is cancelled, so whoever produces it learns it at once.
 */
export async function writeWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) headers[name] = value;
  res.writeHead(response.status, headers);
  const body = response.body;
  if (body === null) {
    res.end();
    return;
  }
  const reader = body.getReader();
  let closed = false;
  let wrote = false;
  setImmediate(() => {
    if (!wrote && !res.writableEnded && !res.destroyed) res.flushHeaders();
  });
  // A read waiting when the client leaves ends (done) as the stream is cancelled.
  const gone = (): void => {
    closed = true;
    void reader.cancel().catch(() => {});
  };
  res.once('close', gone);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || closed) break;
      wrote = true;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const go = (): void => {
            res.off('drain', go);
            res.off('close', go);
            resolve();
          };
          res.on('drain', go);
          res.on('close', go);
        });
      }
    }
  } catch {
    // The producer failed mid-stream: end what was written.
  }
  if (!closed) {
    res.off('close', gone);
    res.end();
  }
}
