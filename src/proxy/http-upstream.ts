import type { FetchHandler, FetchOptions } from '../transport/http-exchange-monitor.js';

/** Request headers that belong to one hop, or that the proxy answers for itself (it checked Origin). */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'origin', 'proxy-authorization', 'te', 'trailer']);
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
export class HttpUpstream implements FetchHandler {
  private readonly extra: [string, string][];

  constructor(private readonly options: HttpUpstreamOptions) {
    this.extra = Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]);
  }

  get url(): URL {
    return this.options.url;
  }

  async fetch(request: Request, options?: FetchOptions): Promise<Response> {
    try {
      return await this.forward(request, options?.parsedBody);
    } catch (error) {
      if (request.signal.aborted) return new Response(null, { status: 499 });
      return unreachable(this.options.url, error);
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

/** Why a fetch failed, in one short phrase (the socket error code when there is one). */
export function failureReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function unreachable(url: URL, error: unknown): Response {
  const message = `Bad Gateway: the upstream MCP server at ${url.origin}${url.pathname} did not answer (${failureReason(error)})`;
  return Response.json({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }, { status: 502 });
}
