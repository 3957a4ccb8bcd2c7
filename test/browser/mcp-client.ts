/**
 * Bundled for the browser by test/e2e/browser.test.ts: the MCP SDK's own client, as a web
 * app would ship it, run inside a real Chromium page.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

async function runMcp(url: string): Promise<unknown> {
  const client = new Client({ name: 'browser-client', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  const tools = await client.listTools();
  const result = await client.callTool({ name: 'echo', arguments: { text: 'from the browser' } });
  await transport.terminateSession();
  await client.close();
  return { tools: tools.tools.map((tool) => tool.name), result };
}

(globalThis as unknown as { runMcp: typeof runMcp }).runMcp = runMcp;
