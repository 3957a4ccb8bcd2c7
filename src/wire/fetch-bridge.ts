import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A web-standard Request for a node:http request whose body was read already (`text`):
 * the URL from the Host header, every header, and a signal that aborts when the client
 * goes away before the answer is written.
 */
export function toWebRequest(req: IncomingMessage, res: ServerResponse, text: string | undefined): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const method = (req.method ?? 'GET').toUpperCase();
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
    method,
    headers,
    signal: abort.signal,
    ...(text !== undefined && method !== 'GET' && method !== 'HEAD' ? { body: text } : {}),
  });
}

/**
 * Writes a web-standard Response to a node:http response: status and headers, then the
 * body as it comes (SSE streams chunk by chunk, waiting for the socket to drain). When the
 * client goes away the body is cancelled, so whoever produces it learns it at once.
 */
export async function writeWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) headers[name] = value;
  res.writeHead(response.status, headers);
  if (response.body === null) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  const gone = new Promise<void>((resolve) => res.once('close', resolve));
  let closed = false;
  void gone.then(() => {
    closed = true;
    void reader.cancel().catch(() => {});
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), gone.then(() => ({ done: true, value: undefined }))]);
      if (done || closed) break;
      if (!res.write(value)) await Promise.race([new Promise((resolve) => res.once('drain', resolve)), gone]);
    }
  } catch {
    // The producer failed mid-stream: end what was written.
  }
  if (!closed) res.end();
}
