import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { useCliProcesses } from '../cli-process.js';
import { useTestPeers } from '../peers.js';

const { start } = useCliProcesses();
const { listen, v1 } = useTestPeers();

/** An SDK v1 upstream that counts the sessions it holds open. */
async function countingUpstream(): Promise<{ url: string; open: () => number; opened: () => number }> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  let opened = 0;
  const server = createServer((req, res) => {
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
      transport = fresh;
      void new McpServer({ name: 'counted', version: '1' }).connect(fresh);
    }
    void transport.handleRequest(req, res);
  });
  return { url: `${await listen(server)}/mcp`, open: () => transports.size, opened: () => opened };
}

describe('proxy --upstream leaves no upstream session open', () => {
  it('after 30 clients that DELETE at once, and after SIGTERM with 50 sessions open', async () => {
    const upstream = await countingUpstream();
    const proxy = await start(['proxy', '--upstream', upstream.url]);
    // The start probe opened one session and ended it again.
    expect([upstream.opened(), upstream.open()]).toEqual([1, 0]);
    await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const { transport } = await v1(proxy.url, `early-${i}`);
        await transport.terminateSession();
      }),
    );
    expect([upstream.opened(), upstream.open()]).toEqual([31, 0]);

    await Promise.all(Array.from({ length: 50 }, (_, i) => v1(proxy.url, `held-${i}`)));
    expect([upstream.opened(), upstream.open()]).toEqual([81, 50]);
    proxy.child.kill('SIGTERM');
    expect(await proxy.exited).toBe(0);
    expect(upstream.open()).toBe(0);
  });
});
