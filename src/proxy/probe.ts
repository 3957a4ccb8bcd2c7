import { MODERN_PROTOCOL_VERSION } from '../core/protocol-versions.js';
import type { ToolSummary } from '../http/admin-routes.js';
import type { JsonRpcLike } from '../transport/jsonrpc-outcome.js';
import { failureReason, type HttpUpstream } from './http-upstream.js';

/** What a probe of the upstream found. */
export interface UpstreamFound {
  /** The protocol versions it answered: 2026-07-28 from server/discover, the 2025 one its initialize negotiated. */
  versions: string[];
  /** Its tools, when it listed them. */
  tools: ToolSummary[];
  /** Why it could not be asked, when it could not. */
  error?: string;
}

const CLIENT_INFO = { name: 'mcp-exporter-probe', version: '1' };

/** The first JSON-RPC message of an answer, JSON or SSE. */
async function firstMessage(res: Response): Promise<JsonRpcLike | undefined> {
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').includes('text/event-stream') ? /^data: ?(.*)$/m.exec(text)?.[1] : text;
  try {
    return json === undefined ? undefined : (JSON.parse(json) as JsonRpcLike);
  } catch {
    return undefined;
  }
}

function post(upstream: HttpUpstream, body: unknown, headers: Record<string, string>): Promise<Response> {
  const request = new Request(upstream.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  return upstream.forward(request, body);
}

const toolsOf = (message: JsonRpcLike | undefined): ToolSummary[] => {
  const tools = (message?.result as { tools?: unknown } | undefined)?.tools;
  return Array.isArray(tools) ? (tools as ToolSummary[]).filter((tool) => typeof tool?.name === 'string') : [];
};

/**
 * Asks an HTTP upstream, once, what it speaks (server/discover for 2026-07-28, then a 2025
 * initialize it ends again) and which tools it has. Never throws: an upstream that is down
 * or refuses is a finding, not a reason to stop.
 */
export async function probeHttpUpstream(upstream: HttpUpstream): Promise<UpstreamFound> {
  const found: UpstreamFound = { versions: [], tools: [] };
  const envelope = {
    'io.modelcontextprotocol/protocolVersion': MODERN_PROTOCOL_VERSION,
    'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  const modern = (method: string): Promise<Response> =>
    post(upstream, { jsonrpc: '2.0', id: 1, method, params: { _meta: envelope } }, { 'mcp-protocol-version': MODERN_PROTOCOL_VERSION, 'mcp-method': method });
  try {
    const discover = await modern('server/discover');
    const answer = await firstMessage(discover);
    const supported = (answer?.result as { supportedVersions?: unknown } | undefined)?.supportedVersions;
    if (Array.isArray(supported) && supported.includes(MODERN_PROTOCOL_VERSION)) {
      found.versions.push(MODERN_PROTOCOL_VERSION);
      found.tools = toolsOf(await firstMessage(await modern('tools/list')));
    }
    const init = await post(
      upstream,
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: CLIENT_INFO } },
      {},
    );
    const initialized = await firstMessage(init);
    const negotiated = (initialized?.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    const sessionId = init.headers.get('mcp-session-id');
    if (init.status === 200 && typeof negotiated === 'string') {
      found.versions.push(negotiated);
      const session: Record<string, string> = { 'mcp-protocol-version': negotiated, ...(sessionId ? { 'mcp-session-id': sessionId } : {}) };
      await (await post(upstream, { jsonrpc: '2.0', method: 'notifications/initialized' }, session)).body?.cancel();
      if (found.tools.length === 0) found.tools = toolsOf(await firstMessage(await post(upstream, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, session)));
      if (sessionId) await upstream.endSession(sessionId, negotiated);
    }
  } catch (error) {
    found.error = failureReason(error);
  }
  return found;
}
