import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module fixture, without types
import { transparencyServer } from '../fixtures/transparency-server.mjs';
import { useCliProcesses } from '../cli-process.js';
import { useTestPeers } from '../peers.js';

const { start } = useCliProcesses();
const { sdkServer } = useTestPeers();
const FIXTURE = fileURLToPath(new URL('../fixtures/transparency-server.mjs', import.meta.url));

/**
 * One scripted session: every kind of message the SDK has, both ways. Returns every message
 * the client received and every result it got, as text, in order.
 */
async function script(transport: Transport): Promise<string[]> {
  const client = new Client({ name: 'transparency-client', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } } });
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', model: 'fixed', content: { type: 'text', text: 'hi' } }));
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'ada' } }));
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///work', name: 'work' }] }));
  const seen: string[] = [];
  const progress: string[] = [];
  await client.connect(transport);
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    seen.push(`received ${JSON.stringify(message)}`);
    deliver?.(message, extra);
  };
  const results: unknown[] = [
    client.getServerVersion(),
    client.getServerCapabilities(),
    await client.listTools(),
    await client.callTool({ name: 'work', arguments: { steps: 3 } }, undefined, { onprogress: (p) => void progress.push(`progress ${JSON.stringify(p)}`) }),
    await client.callTool({ name: 'broken', arguments: {} }),
    await client.callTool({ name: 'missing', arguments: {} }).catch((error: Error) => error.message),
    await client.listPrompts(),
    await client.getPrompt({ name: 'greet', arguments: { name: 'ada' } }),
    await client.complete({ ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'name', value: 'a' } }),
    await client.listResources(),
    await client.listResourceTemplates(),
    await client.readResource({ uri: 'mem://note' }),
    await client.readResource({ uri: 'mem://items/7' }),
    await client.setLoggingLevel('debug'),
    await client.ping(),
  ];
  await client.sendRootsListChanged();
  await client.close();
  // Progress callbacks as a list of their own: when they run against the raw messages depends on how the bytes were chunked.
  return [...seen, ...progress, ...results.map((r) => `result ${JSON.stringify(r)}`)];
}

describe('through the proxy, a client sees what it sees directly, message for message', () => {
  it('proxy --stdio against the same server over stdio', async () => {
    const direct = await script(new StdioClientTransport({ command: process.execPath, args: [FIXTURE, 'stdio'] }));
    const proxy = await start(['proxy', '--stdio', `${process.execPath} ${FIXTURE} stdio`]);
    const proxied = await script(new StreamableHTTPClientTransport(new URL(proxy.url)));
    expect(direct.length).toBeGreaterThan(20);
    expect(proxied).toEqual(direct);
  });

  it('proxy --upstream against the same server over Streamable HTTP', async () => {
    const { url } = await sdkServer(() => transparencyServer() as { connect(t: never): Promise<void> });
    const direct = await script(new StreamableHTTPClientTransport(new URL(url)));
    const proxy = await start(['proxy', '--upstream', url]);
    const proxied = await script(new StreamableHTTPClientTransport(new URL(proxy.url)));
    expect(direct.length).toBeGreaterThan(20);
    expect(proxied).toEqual(direct);
  });
});
