import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { afterEach } from 'vitest';

/** How an SDK v2 client negotiates: 2025 (`legacy`, its default), `auto`, or pinned to a version. */
export type Mode = 'legacy' | 'auto' | { pin: string };

export interface V2Options {
  capabilities?: Record<string, unknown>;
  /** A fetch of its own: a handler's `fetch` instead of HTTP. */
  fetch?: typeof fetch;
}

/**
 * The peers a test file makes (real SDK clients of both lines, listeners), closed after each
 * test, last made first. Call once at the top of the file.
 */
export function useTestPeers() {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });
  const defer = (cleanup: () => Promise<unknown>): void => void cleanups.push(cleanup);
  /** Listens on 127.0.0.1 (a free port unless given); resolves with the base URL. */
  const listen = async (server: Server, port = 0): Promise<string> => {
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    defer(
      () =>
        new Promise((resolve) => {
          server.close(resolve);
          server.closeAllConnections();
        }),
    );
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  return {
    defer,
    listen,
    /**
     * An SDK v1 Streamable HTTP server of its own on a free port, written as the SDK README
     * writes one (a transport map by session id, a server from `factory` per session):
     * the independent server a proxy test puts behind the proxy. `seen` is told every request.
     */
    async sdkServer(
      factory: () => { connect(transport: Transport): Promise<void> },
      seen: (req: IncomingMessage) => void = () => {},
      port = 0,
    ): Promise<{ url: string; open: () => number; opened: () => number; stop: () => Promise<void> }> {
      const transports = new Map<string, StreamableHTTPServerTransport>();
      let opened = 0;
      const server = createServer((req, res) => {
        seen(req);
        const id = req.headers['mcp-session-id'];
        let transport = typeof id === 'string' ? transports.get(id) : undefined;
        if (!transport) {
          const fresh = new StreamableHTTPServerTransport({
            sessionIdGenerator: randomUUID,
            onsessioninitialized: (sid) => {
              opened += 1;
              transports.set(sid, fresh);
            },
            onsessionclosed: (sid) => void transports.delete(sid),
          });
          fresh.onclose = () => void (fresh.sessionId && transports.delete(fresh.sessionId));
          transport = fresh;
          void factory().connect(fresh);
        }
        void transport.handleRequest(req, res);
      });
      const stop = (): Promise<void> =>
        new Promise((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      return { url: `${await listen(server, port)}/mcp`, open: () => transports.size, opened: () => opened, stop };
    },
    /** An SDK v1 client, connected. */
    async v1(url: string, name: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
      const client = new Client({ name, version: '1.32.2' });
      const transport = new StreamableHTTPClientTransport(new URL(url));
      await client.connect(transport);
      defer(() => client.close());
      return { client, transport };
    },
    /** An SDK v2 client in a negotiation mode, connected. */
    async v2(url: string, name: string, mode: Mode, options: V2Options = {}): Promise<ClientV2> {
      const client = new ClientV2({ name, version: '2.4.0' }, { versionNegotiation: { mode }, capabilities: options.capabilities ?? {} });
      await client.connect(new TransportV2(new URL(url), options.fetch ? { fetch: options.fetch } : undefined));
      defer(() => client.close());
      return client;
    },
  };
}
