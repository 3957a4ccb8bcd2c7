import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { MODERN_PROTOCOL_VERSION } from '../core/protocol-versions.js';
import { META_CLIENT_INFO, META_PROTOCOL_VERSION } from '../transport/era.js';
import { JSONRPC, jsonRpcErrorText, SHUTTING_DOWN } from '../transport/http-answers.js';
import { CLIENT_GONE, jsonHead, type AnswerHead, type BodyWatch, type FetchHandler, type FetchOptions, type NodeRelay } from '../wire/exchange.js';
import { failureOf, meansDown, type CheckResult, type UpstreamWatch } from './upstream-watch.js';

/** How long a connection to the upstream may take to open. */
const CONNECT_TIMEOUT_MS = 10_000;
/** How long a check waits for the upstream's answer. */
const CHECK_TIMEOUT_MS = 5000;
const CHECK_CLIENT = { name: 'mcp-exporter-check', version: '1' };

/** Request headers that belong to one hop, or that the proxy answers for itself (it checked Origin). */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'origin', 'proxy-authorization', 'te', 'trailer']);
/** Response headers of one hop; fetch has already decoded the body, so its encoding and length go too. */
const NOT_RETURNED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-encoding', 'content-length', 'trailer']);
/** Response headers of one hop, when the body's bytes pass unchanged (relay). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'trailer', 'upgrade', 'proxy-authenticate']);

export interface HttpUpstreamOptions {
  /** The upstream's MCP endpoint. */
  url: URL;
  /** Headers sent upstream on every request (an Authorization for the upstream, say); they replace the client's of the same name. @default none */
  headers?: Readonly<Record<string, string>>;
}

/**
 * An MCP server elsewhere, as a fetch handler: every request goes upstream as the client sent
 * it (headers, body, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID), and the answer comes
 * back as the upstream sent it, streams included. Both protocol eras pass unchanged, so the
 * proxy is as transparent as HTTP allows; an upstream that cannot be reached is a 502 with a
 * JSON-RPC error that names it.
 */
export class HttpUpstream implements FetchHandler, NodeRelay {
  private readonly extra: [string, string][];
  /** Where requests go, as node:http's request options. */
  private readonly target: { protocol: string; hostname: string; port: string; path: string };
  /** Client headers the proxy sets itself: its own upstream headers, and accept-encoding. */
  private readonly replaced: ReadonlySet<string>;
  /** Connections to the upstream, kept open between requests. */
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  /** Told what each relayed request found of the upstream: set once the monitor is there. */
  watch: UpstreamWatch | undefined;
  /** The exchanges being relayed now, each by the way to end it with an answer at shutdown. */
  private readonly relaying = new Set<() => void>();

  constructor(private readonly options: HttpUpstreamOptions) {
    this.extra = Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]);
    this.replaced = new Set(['accept-encoding', ...this.extra.map(([name]) => name)]);
    const tls = options.url.protocol === 'https:';
    this.agent = tls ? new HttpsAgent({ keepAlive: true, scheduling: 'lifo' }) : new HttpAgent({ keepAlive: true, scheduling: 'lifo' });
    this.send = tls ? httpsRequest : httpRequest;
    // Given as plain options, not as the URL: node:http turns a URL into an object of null
    // prototype (a slow dictionary for V8) on every request.
    const url = options.url;
    this.target = { protocol: url.protocol, hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port, path: `${url.pathname}${url.search}` };
  }

  /**
   * Relays one request on node:http streams: sent upstream with the client's headers (less
   * those of one hop) and the body as the client sent it, answered with the upstream's
   * status, headers and bytes unchanged, back-pressure kept both ways. An upstream that
   * cannot be reached is the same 502 fetch() gives; a client that leaves aborts the
   * request upstream. Resolves when the exchange is over.
   */
  relay(req: IncomingMessage, res: ServerResponse, text: string | undefined, answered: (head: AnswerHead) => BodyWatch | undefined, parsed?: unknown): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    // A flat [name, value, ...] list, as node:http takes and gives raw headers: no object with
    // keys made up at run time (V8 keeps those as slow dictionaries) per request.
    const headers: string[] = [];
    const incoming = req.headers;
    for (const name in incoming) {
      const value = incoming[name];
      if (value === undefined || NOT_FORWARDED.has(name) || this.replaced.has(name) || name.charCodeAt(0) === 58 /* : */) continue;
      if (typeof value === 'string') headers.push(name, value);
      else for (const item of value) headers.push(name, item);
    }
    for (const [name, value] of this.extra) headers.push(name, value);
    // A raw list gets no Host from node:http: it is the upstream's.
    headers.push('host', this.options.url.host, 'accept-encoding', 'identity');
    const body = method === 'POST' ? (text ?? '') : undefined;
    if (body !== undefined) headers.push('content-length', String(Buffer.byteLength(body)));
    const { url } = this.options;
    const id = method === 'POST' ? (parsed !== undefined ? requestIdIn(parsed) : requestIdOf(text)) : undefined;
    return new Promise<void>((resolve) => {
      let watch: BodyWatch | undefined;
      let heard = false;
      let over = false;
      let streaming = false;
      const finish = (): void => {
        if (over) return;
        over = true;
        this.relaying.delete(shutDown);
        watch?.end?.();
        resolve();
      };
      // At shutdown: a request still waiting for its answer gets a JSON-RPC error (in its SSE
      // stream when the upstream opened one, else as the answer), a stream without one just ends.
      const shutDown = (): void => {
        if (over) return;
        const error = id === undefined ? undefined : jsonRpcErrorText(id, SHUTTING_DOWN.code, SHUTTING_DOWN.message);
        if (!heard) {
          // The JSON-RPC error is the answer: a JSON body, as a server may answer any POST.
          heard = true;
          const status = error === undefined ? 503 : 200;
          watch = answered(jsonHead(status));
          watch?.whole?.(error ?? '');
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(error ?? '');
        } else if (streaming) {
          const frame = error === undefined ? '' : `event: message\ndata: ${error}\n\n`;
          if (frame !== '') watch?.chunk?.(frame);
          res.end(frame);
        } else res.destroy();
        upstream.destroy();
        finish();
      };
      this.relaying.add(shutDown);
      const upstream = this.send({ ...this.target, method, headers, agent: this.agent });
      res.once('close', () => {
        if (res.writableFinished) return;
        // The client left first: stop asking upstream, and say so to the monitor.
        upstream.destroy();
        if (!heard) {
          heard = true;
          answered(CLIENT_GONE);
        } else watch?.cancel?.();
        finish();
      });
      // A connection that takes this long to open is a timeout, not a request still being answered.
      upstream.once('socket', (socket) => {
        if (!socket.connecting) return;
        socket.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })));
        socket.once('connect', () => socket.setTimeout(0));
      });
      upstream.on('error', (error) => {
        if (over) return;
        if (heard) {
          // Failed mid-answer: the client sees the connection end as the upstream's did.
          this.watch?.failed('connection_reset', false);
          res.destroy();
          finish();
          return;
        }
        heard = true;
        this.watch?.failed(failureOf(error), true);
        const failed = unreachable(url, error);
        watch = answered(jsonHead(502));
        watch?.whole?.(failed);
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(failed);
        finish();
      });
      upstream.once('response', (answer) => {
        if (over) {
          answer.destroy();
          return;
        }
        heard = true;
        const status = answer.statusCode ?? 502;
        if (status >= 500) this.watch?.failed('server_error', meansDown(status));
        else this.watch?.answered();
        watch = answered({ status: answer.statusCode ?? 502, header: (name) => first(answer.headers[name]) });
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, returnedHeaders(answer.rawHeaders));
        streaming = first(answer.headers['content-type'])?.startsWith('text/event-stream') === true;
        if (streaming) res.flushHeaders();
        watch?.hold?.(() => answer.destroy());
        answer.on('error', () => {}); // the 'close' below handles an answer cut short
        const decoder = watch?.chunk ? new StringDecoder('utf8') : undefined;
        const parts: Buffer[] | undefined = watch?.whole ? [] : undefined;
        answer.on('data', (chunk: Buffer) => {
          if (decoder) watch?.chunk?.(decoder.write(chunk));
          parts?.push(chunk);
          if (!res.write(chunk)) answer.pause();
        });
        res.on('drain', () => answer.resume());
        answer.once('end', () => {
          if (parts) watch?.whole?.(Buffer.concat(parts).toString('utf8'));
          res.end();
          finish();
        });
        answer.once('close', () => {
          if (answer.complete || over) return;
          res.destroy();
          finish();
        });
      });
      upstream.end(body);
    });
  }

  get url(): URL {
    return this.options.url;
  }

  async fetch(request: Request, options?: FetchOptions): Promise<Response> {
    try {
      return await this.forward(request, options?.parsedBody);
    } catch (error) {
      if (request.signal.aborted) return new Response(null, { status: 499 });
      return new Response(unreachable(this.options.url, error), { status: 502, headers: { 'content-type': 'application/json' } });
    }
  }

  /** Sends the request upstream and returns its answer; rejects when the upstream cannot be reached. */
  async forward(request: Request, parsedBody?: unknown): Promise<Response> {
    const headers = new Headers();
    for (const [name, value] of request.headers) if (!NOT_FORWARDED.has(name)) headers.set(name, value);
    for (const [name, value] of this.extra) headers.set(name, value);
    headers.set('accept-encoding', 'identity');
    const method = request.method.toUpperCase();
    let body: string | undefined;
    if (method === 'POST') body = parsedBody !== undefined ? JSON.stringify(parsedBody) : await request.text();
    const upstream = await fetch(this.options.url, { method, headers, body, signal: request.signal, redirect: 'manual' });
    const returned = new Headers();
    for (const [name, value] of upstream.headers) if (!NOT_RETURNED.has(name)) returned.set(name, value);
    return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers: returned });
  }

  /** Answers what is still being relayed (see relay) and lets go of the connections kept open to the upstream. */
  async close(): Promise<void> {
    this.watch?.stop();
    for (const shutDown of [...this.relaying]) shutDown();
    this.agent.destroy();
  }

  /**
   * Asks the upstream once whether it answers, leaving nothing open on it: a `server/discover`
   * (the 2026-07-28 revision's request for exactly this; a 2025-only server refuses it, and
   * that answer is an answer). Any answer but a 5xx is up.
   */
  async check(timeoutMs = CHECK_TIMEOUT_MS): Promise<CheckResult> {
    const body = {
      jsonrpc: '2.0',
      id: 1,
      method: 'server/discover',
      params: { _meta: { [META_PROTOCOL_VERSION]: MODERN_PROTOCOL_VERSION, [META_CLIENT_INFO]: CHECK_CLIENT, 'io.modelcontextprotocol/clientCapabilities': {} } },
    };
    try {
      const answer = await this.forward(
        new Request(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN_PROTOCOL_VERSION, 'mcp-method': 'server/discover' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        }),
        body,
      );
      await answer.body?.cancel().catch(() => {});
      return answer.status >= 500 ? { reason: 'server_error', down: meansDown(answer.status) } : undefined;
    } catch (error) {
      return { reason: failureOf(error), down: true };
    }
  }

  /** Ends a 2025 session upstream (DELETE), as a client would; failures are ignored: the proxy is letting go of it. */
  async endSession(sessionId: string, protocolVersion: string): Promise<void> {
    const headers: Record<string, string> = { 'mcp-session-id': sessionId };
    if (protocolVersion !== '') headers['mcp-protocol-version'] = protocolVersion;
    for (const [name, value] of this.extra) headers[name] = value;
    try {
      const res = await fetch(this.options.url, { method: 'DELETE', headers, signal: AbortSignal.timeout(5000) });
      await res.body?.cancel();
    } catch {
      // Gone already, or unreachable: nothing to end.
    }
  }
}

/** The id of a JSON-RPC request body (one request, not a batch or a notification), if it is one. */
function requestIdOf(text: string | undefined): string | number | undefined {
  if (text === undefined || text.length > 65_536) return undefined;
  try {
    return requestIdIn(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** The id of a parsed JSON-RPC request (one request, not a batch or a notification), if it is one. */
function requestIdIn(value: unknown): string | number | undefined {
  const message = value as { id?: unknown; method?: unknown } | null;
  return typeof message?.method === 'string' && (typeof message.id === 'string' || typeof message.id === 'number') ? message.id : undefined;
}

/** Why a request upstream failed (fetch's, or node:http's), in one short phrase (the socket error code when there is one). */
export function failureReason(error: unknown): string {
  const own = (error as { code?: unknown } | undefined)?.code;
  if (typeof own === 'string') return own; // node:http's own errors
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** The JSON-RPC error of a 502: the upstream (never its query, which may carry a secret) and why it did not answer. */
function unreachable(url: URL, error: unknown): string {
  const message = `Bad Gateway: the upstream MCP server at ${url.origin}${url.pathname} did not answer (${failureReason(error)})`;
  return jsonRpcErrorText(null, JSONRPC.serverError, message);
}

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

function returnedHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (!HOP_BY_HOP.has(name) && !HOP_BY_HOP.has(name.toLowerCase())) out.push(name, raw[i + 1] as string);
  }
  return out;
}
