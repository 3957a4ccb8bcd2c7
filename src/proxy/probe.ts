import { MODERN_PROTOCOL_VERSION, PROTOCOL_VERSIONS } from '../core/protocol-versions.js';
import type { ToolSummary } from '../http/admin-routes.js';
import { META_CLIENT_INFO, META_PROTOCOL_VERSION } from '../transport/era.js';
import type { JsonRpcLike } from '../transport/jsonrpc-outcome.js';
import { messagesIn } from '../wire/sse-frames.js';
import { failureReason, type HttpUpstream } from './http-upstream.js';

/** What a probe of the upstream found. */
export interface UpstreamFound {
  /**
   * The protocol versions it speaks, newest first: those its server/discover lists
   * (2026-07-28 on), and the 2025 one its initialize negotiated.
   */
  versions: string[];
  /** Its tools, when it listed them. */
  tools: ToolSummary[];
  /** Why it could not be asked, when it could not. */
  error?: string;
}

const CLIENT_INFO = { name: 'mcp-exporter-probe', version: '1' };
/** The newest 2025 revision: what the probe's initialize asks for (the upstream may negotiate down). */
const NEWEST_2025 = '2025-11-25';

/** The response to request `id` in an answer, JSON or SSE, whatever events come before it (a priming event, notifications). */
async function responseTo(res: Response, id: number): Promise<JsonRpcLike | undefined> {
  const text = await res.text();
  const eventStream = (res.headers.get('content-type') ?? '').toLowerCase().includes('text/event-stream');
  return messagesIn<JsonRpcLike>(text, eventStream).find((message) => message.id === id && message.method === undefined);
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

/** Versions of the specification, newest first; others (a revision this project does not know) after them as given. */
function newestFirst(versions: Iterable<string>): string[] {
  const rank = (version: string): number => PROTOCOL_VERSIONS.indexOf(version);
  return [...new Set(versions)].sort((a, b) => rank(b) - rank(a));
}

/**
 * Asks an HTTP upstream, once, what it speaks (server/discover for 2026-07-28, then a 2025
 * initialize) and which tools it has. The session its initialize opens is ended (DELETE)
 * whatever came of it, so the probe leaves nothing open upstream. Never throws: an upstream
 * that is down or refuses is a finding, not a reason to stop.
 */
export async function probeHttpUpstream(upstream: HttpUpstream): Promise<UpstreamFound> {
  const versions = new Set<string>();
  let tools: ToolSummary[] = [];
  const envelope = { [META_PROTOCOL_VERSION]: MODERN_PROTOCOL_VERSION, [META_CLIENT_INFO]: CLIENT_INFO, 'io.modelcontextprotocol/clientCapabilities': {} };
  const modern = (method: string): Promise<Response> =>
    post(upstream, { jsonrpc: '2.0', id: 1, method, params: { _meta: envelope } }, { 'mcp-protocol-version': MODERN_PROTOCOL_VERSION, 'mcp-method': method });
  try {
    const discovered = await responseTo(await modern('server/discover'), 1);
    const supported = (discovered?.result as { supportedVersions?: unknown } | undefined)?.supportedVersions;
    if (Array.isArray(supported)) {
      for (const version of supported) if (typeof version === 'string') versions.add(version);
      if (versions.has(MODERN_PROTOCOL_VERSION)) tools = toolsOf(await responseTo(await modern('tools/list'), 1));
    }
    const init = await post(
      upstream,
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: NEWEST_2025, capabilities: {}, clientInfo: CLIENT_INFO } },
      {},
    );
    const sessionId = init.headers.get('mcp-session-id') ?? undefined;
    let negotiated: string | undefined;
    try {
      const initialized = await responseTo(init, 1);
      const version = (initialized?.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
      negotiated = init.status === 200 && typeof version === 'string' ? version : undefined;
      if (negotiated !== undefined) {
        versions.add(negotiated);
        const session: Record<string, string> = { 'mcp-protocol-version': negotiated, ...(sessionId ? { 'mcp-session-id': sessionId } : {}) };
        await (await post(upstream, { jsonrpc: '2.0', method: 'notifications/initialized' }, session)).body?.cancel();
        if (tools.length === 0) tools = toolsOf(await responseTo(await post(upstream, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, session), 2));
      }
    } finally {
      if (sessionId) await upstream.endSession(sessionId, negotiated ?? NEWEST_2025);
    }
  } catch (error) {
    return { versions: newestFirst(versions), tools, error: failureReason(error) };
  }
  return { versions: newestFirst(versions), tools };
}
