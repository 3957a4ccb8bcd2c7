import type { IncomingMessage, ServerResponse } from 'node:http';
import { MODERN_PROTOCOL_VERSION } from '../core/protocol-versions.js';
import { SlotList } from '../core/slot-list.js';
import type { ClientAnswer, RelayRequest } from '../http/front-door.js';
import { isToken } from '../http/http-chars.js';
import { META_CLIENT_INFO, META_PROTOCOL_VERSION } from '../transport/era.js';
import { JSONRPC, jsonRpcErrorText } from '../transport/http-answers.js';
import { type AnswerHead, type BodyWatch, type FetchHandler, type FetchOptions, type NodeRelay } from '../wire/exchange.js';
import { NodeAnswer, RelayedExchange, type RelayContext } from './relayed-exchange.js';
import { UpstreamPool } from './upstream-pool.js';
import { failureOf, meansDown, type CheckResult, type UpstreamWatch } from './upstream-watch.js';

/** How long a check waits for the upstream's answer. */
const CHECK_TIMEOUT_MS = 5000;
const CHECK_CLIENT = { name: 'mcp-exporter-check', version: '1' };

/**
 * Request headers (lower case) that belong to one hop, or that the proxy answers for itself
 * (it checked Origin). A switch, not a Set: a name read from a request is a new string, which
 * a Set would hash on every request.
 */
function notForwarded(name: string): boolean {
  switch (name) {
    case 'connection':
    case 'keep-alive':
    case 'transfer-encoding':
    case 'upgrade':
    case 'host':
    case 'content-length':
    case 'origin':
    case 'proxy-authorization':
    case 'te':
    case 'trailer':
      return true;
    default:
      return false;
  }
}
/** Response headers of one hop; fetch has already decoded the body, so its encoding and length go too. */
const NOT_RETURNED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-encoding', 'content-length', 'trailer']);

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
export class HttpUpstream implements FetchHandler, NodeRelay, RelayContext {
  private readonly extra: [string, string][];
  /** The path (and query) requests go to on the upstream. */
  private readonly path: string;
  /** Client headers the proxy sets itself besides accept-encoding: its own upstream headers (none, mostly). */
  private readonly replaced: ReadonlySet<string> | undefined;
  /** Connections to the upstream, kept open between requests. */
  private readonly pool: UpstreamPool;
  /** The request head's lines the proxy writes itself: the upstream's Host, its own headers, identity encoding. */
  private readonly fixed: string;
  /** Told what each relayed request found of the upstream: set once the monitor is there. */
  watch: UpstreamWatch | undefined;
  /** The exchanges being relayed now: each is ended with an answer at shutdown (a SlotList: one comes and goes with every request). */
  private readonly relaying = new SlotList<RelayedExchange>();

  constructor(private readonly options: HttpUpstreamOptions) {
    this.extra = Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]);
    this.replaced = this.extra.length === 0 ? undefined : new Set(this.extra.map(([name]) => name));
    for (const [name, value] of this.extra) {
      if (!isToken(name) || /[\r\n\0]/.test(value)) throw new TypeError(`upstream header ${name.slice(0, 64)}: not a header name, or a value with a line break or NUL`);
    }
    const url = options.url;
    const tls = url.protocol === 'https:';
    const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.path = `${url.pathname}${url.search}`;
    this.pool = new UpstreamPool({ hostname, port: url.port === '' ? (tls ? 443 : 80) : Number(url.port), tls });
    this.fixed = `host: ${url.host}\r\n${this.extra.map(([name, value]) => `${name}: ${value}\r\n`).join('')}accept-encoding: identity\r\n`;
  }

  /**
   * Relays one request: sent upstream with the client's headers (less those of one hop) and
   * the body as the client sent it, answered with the upstream's status, headers and bytes
   * unchanged, back-pressure kept both ways. What arrives in one read from the upstream goes
   * to the client in one write; an event stream's head that comes alone waits up to 1 ms for
   * its first event. An upstream that cannot be reached is the same 502 fetch() gives; a
   * client that leaves closes the request's connection upstream. Resolves when the exchange
   * is over.
   */
  relay(req: IncomingMessage, res: ServerResponse, text: string | undefined, answered: (head: AnswerHead) => BodyWatch | undefined, parsed?: unknown): Promise<void> {
    return new Promise<void>((resolve) => this.relayTo({ method: (req.method ?? 'GET').toUpperCase(), raw: req.rawHeaders, text, parsed }, new NodeAnswer(res), answered, resolve));
  }

  /**
   * As relay(), for a request read already (node:http's, or the proxy's own front door's),
   * its answer written to `answer`; `done` is called once the exchange is over. Header lines
   * are passed on as they came. `answered` is called exactly once: with the answer's head,
   * the 502's, or CLIENT_GONE when the client left first. No promise: the front door's
   * requests are the proxy's hot path.
   */
  relayTo(request: RelayRequest, answer: ClientAnswer, answered: (head: AnswerHead) => BodyWatch | undefined, done: () => void = noop): void {
    const { method, raw, names, text, parsed } = request;
    const body = method === 'POST' ? (text ?? '') : undefined;
    let head = `${method} ${this.path} HTTP/1.1\r\n${this.fixed}`;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i] as string;
      const lower = names === undefined ? name.toLowerCase() : (names[i >> 1] as string);
      // HTTP/2 pseudo-headers (':path' and the like) never go on.
      if (!notForwarded(lower) && lower !== 'accept-encoding' && this.replaced?.has(lower) !== true && lower.charCodeAt(0) !== 58 /* : */) head += `${name}: ${raw[i + 1] as string}\r\n`;
    }
    head += body === undefined ? '\r\n' : `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const id = method === 'POST' ? (parsed !== undefined ? requestIdIn(parsed) : requestIdOf(text)) : undefined;
    const exchange = new RelayedExchange(this, answer, answered, id, done);
    this.relaying.add(exchange);
    exchange.sending(this.pool.send(head, method === 'HEAD', exchange));
  }

  /** The JSON-RPC error of a 502 from this upstream (see RelayContext). */
  unreachable(error: unknown): string {
    return unreachable(this.options.url, error);
  }

  /** An exchange is over (see RelayContext). */
  done(exchange: RelayedExchange): void {
    this.relaying.delete(exchange);
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
    for (const [name, value] of request.headers) if (!notForwarded(name)) headers.set(name, value);
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
    for (const exchange of this.relaying.toArray()) exchange.shutDown();
    this.pool.close();
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

function noop(): void {}
