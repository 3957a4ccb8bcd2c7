import type { IncomingMessage, ServerResponse } from 'node:http';

/** Liveness: the process answers. */
export const HEALTHY_PATH = '/-/healthy';
/** Readiness: the MCP server takes clients (not starting, not shutting down). */
export const READY_PATH = '/-/ready';

function answer(res: ServerResponse, status: number, text: string, head: boolean): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(head ? undefined : text);
}

/**
 * `/-/healthy` and `/-/ready`, as Prometheus and Alertmanager name them: for container
 * healthchecks, Kubernetes probes and load balancers. They need no token and say nothing
 * about sessions. Returns false for any other path.
 */
export function handleProbe(req: IncomingMessage, res: ServerResponse, path: string, isReady: () => boolean): boolean {
  if (path !== HEALTHY_PATH && path !== READY_PATH) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0 });
    res.end();
    return true;
  }
  const head = req.method === 'HEAD';
  if (path === HEALTHY_PATH) answer(res, 200, 'mcp-exporter is Healthy.\n', head);
  else if (isReady()) answer(res, 200, 'mcp-exporter is Ready.\n', head);
  else answer(res, 503, 'mcp-exporter is not ready: starting or shutting down.\n', head);
  return true;
}
