import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UpstreamState } from '../core/types.js';

/** Liveness: the process answers. */
export const HEALTHY_PATH = '/-/healthy';
/** Readiness: the MCP server takes clients (not starting, not shutting down; a proxy's upstream answers). */
export const READY_PATH = '/-/ready';

function answer(res: ServerResponse, status: number, text: string, head: boolean): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(head ? undefined : text);
}

/**
 * `/-/healthy` and `/-/ready`, as Prometheus and Alertmanager name them: for container
 * healthchecks, Kubernetes probes and load balancers. They need no token and say nothing
 * about sessions; `notReady` says why the server is not ready, or undefined. Returns false for
 * any other path.
 */
export function handleProbe(req: IncomingMessage, res: ServerResponse, path: string, notReady: () => string | undefined): boolean {
  if (path !== HEALTHY_PATH && path !== READY_PATH) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0 });
    res.end();
    return true;
  }
  const head = req.method === 'HEAD';
  if (path === HEALTHY_PATH) {
    answer(res, 200, 'mcp-exporter is Healthy.\n', head);
    return true;
  }
  const why = notReady();
  if (why === undefined) answer(res, 200, 'mcp-exporter is Ready.\n', head);
  else answer(res, 503, `mcp-exporter is not ready: ${why}.\n`, head);
  return true;
}

/**
 * Why a server is not ready, or undefined when it is: starting or shutting down, or (a proxy)
 * the MCP server behind it does not answer, unless `readyWhenUpstreamDown`.
 */
export function notReadyBecause(running: boolean, upstream: UpstreamState | undefined, readyWhenUpstreamDown: boolean): string | undefined {
  if (!running) return 'starting or shutting down';
  if (!readyWhenUpstreamDown && upstream?.up === false) return 'the MCP server behind the proxy does not answer';
  return undefined;
}
