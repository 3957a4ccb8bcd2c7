/** A lean MCP client for load: raw HTTP/1.1 keep-alive requests with pre-built bodies. */
import { Agent, request } from 'node:http';

/**
 * Keep-alive connections, closed by the client after 4 s idle: the bench leaves a server
 * idle while it measures the others, and a server closes an idle connection after its
 * keepAliveTimeout (node:http's 5 s); a request sent on one just as the server closes it
 * fails ("socket hang up"). Node 20's agent does not read the server's Keep-Alive hint.
 */
export const agent = new Agent({ keepAlive: true, maxSockets: 64, timeout: 4000 });

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function post(port: number, path: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  return send(port, 'POST', path, body, headers);
}

export function send(port: number, method: string, path: string, body: string | undefined, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: {
          accept: 'application/json, text/event-stream',
          ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
});
const INITIALIZED = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });

/** Opens a session (initialize + initialized); returns the headers its requests carry. */
export async function openSession(port: number): Promise<Record<string, string>> {
  const init = await post(port, '/mcp', INIT);
  const id = init.headers['mcp-session-id'];
  if (init.status !== 200 || typeof id !== 'string') throw new Error(`initialize answered ${init.status}`);
  const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' };
  const note = await post(port, '/mcp', INITIALIZED, headers);
  if (note.status !== 202) throw new Error(`initialized answered ${note.status}`);
  return headers;
}

export async function closeSession(port: number, headers: Record<string, string>): Promise<void> {
  const res = await send(port, 'DELETE', '/mcp', undefined, headers);
  if (res.status !== 200) throw new Error(`DELETE answered ${res.status}`);
}

export function callBody(id: number): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'bench' } } });
}

/** How a client sends its calls: in a 2025 session, as 2025 requests that stand alone, or in the 2026-07-28 revision. */
export type CallShape = 'session' | 'stateless-2025' | 'modern';

const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** The body and headers of one call of a shape that needs no session. */
export function standaloneCall(shape: Exclude<CallShape, 'session'>, id: number): { body: string; headers: Record<string, string> } {
  if (shape === 'stateless-2025') return { body: callBody(id), headers: { 'mcp-protocol-version': '2025-11-25' } };
  return {
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'bench' }, _meta: MODERN_META } }),
    headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
  };
}

/** Runs `work` in `concurrency` loops until `ms` pass; returns each completion's latency in ms. */
export async function runFor(ms: number, concurrency: number, work: (loop: number, i: number) => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      for (let i = 0; performance.now() < end; i++) {
        const start = performance.now();
        await work(loop, i);
        latencies.push(performance.now() - start);
      }
    }),
  );
  return latencies;
}

/** Runs `count` jobs with at most `concurrency` at once. */
export async function pool(count: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await job(next++);
    }),
  );
}
