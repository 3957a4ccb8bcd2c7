import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { useCliProcesses } from '../cli-process.js';
import { useTestPeers } from '../peers.js';

const { start } = useCliProcesses();
const { sdkServer, v1 } = useTestPeers();

describe('proxy --upstream leaves no upstream session open', () => {
  it('after 30 clients that DELETE at once, and after SIGTERM with 50 sessions open', async () => {
    const upstream = await sdkServer(() => new McpServer({ name: 'counted', version: '1' }));
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
