import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { releaseAnsweredJsonStreams } from '../../src/sdk-v1/json-stream-release.js';
import { connectClient } from '../helpers.js';

const CALLS = 20;
/** The SDK's key for the client's standalone GET stream, which stays open by design. */
const GET_STREAM = '_GET_stream';

/** Keys of the SDK's stream map after one session's traffic, the client's GET stream first. */
async function streamsHeldAfterCalls(release: boolean): Promise<string[]> {
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, enableJsonResponse: true });
  if (release) expect(releaseAnsweredJsonStreams(transport)).toBe(true);
  const server = new McpServer({ name: 'json', version: '1.0.0' });
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  await server.connect(transport);
  const http = createServer((req, res) => void transport.handleRequest(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  const { client } = await connectClient(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`);
  try {
    for (let i = 0; i < CALLS; i++) {
      const result = await client.callTool({ name: 'echo', arguments: { text: `call ${i}` } });
      expect(result.content).toEqual([{ type: 'text', text: `call ${i}` }]);
    }
    const streams = (transport as unknown as { _webStandardTransport: { _streamMapping: Map<string, unknown> } })._webStandardTransport._streamMapping;
    return [...streams.keys()].sort((a, b) => (a === GET_STREAM ? -1 : b === GET_STREAM ? 1 : 0));
  } finally {
    await client.close();
    await server.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }
}

describe('releaseAnsweredJsonStreams', () => {
  it('leaves only the open GET stream once every POST is answered', async () => {
    expect(await streamsHeldAfterCalls(true)).toEqual([GET_STREAM]);
  });

  it('is still needed: the SDK alone holds one entry per answered POST (initialize and each call)', async () => {
    // When this fails, the SDK releases them itself and the workaround can go.
    const held = await streamsHeldAfterCalls(false);
    expect(held[0]).toBe(GET_STREAM);
    expect(held.length).toBe(1 + 1 + CALLS);
  });
});
