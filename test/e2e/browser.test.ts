import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samples, scrape, useDemoServers } from '../helpers.js';

const { demo } = useDemoServers();

/** Debian's Chromium (`apt-get install -y chromium`; .ci/run installs it). */
const CHROMIUM = '/usr/bin/chromium';
const ENTRY = fileURLToPath(new URL('../browser/mcp-client.ts', import.meta.url));

let browser: Browser;
let page = '';
const pageServers: Server[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  const bundle = await build({ entryPoints: [ENTRY], bundle: true, format: 'iife', platform: 'browser', write: false, logLevel: 'error' });
  page = `<!doctype html><html><body><script>${bundle.outputFiles[0]?.text ?? ''}</script></body></html>`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(pageServers.map((server) => new Promise((resolve) => server.close(resolve))));
});

/** Serves the page with the bundled client on `address`; resolves with its port. */
async function servePage(address: string): Promise<number> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  pageServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return (server.address() as AddressInfo).port;
}

/** Opens `pageUrl` in Chromium and runs the SDK client there against `mcpUrl`: its result, or the error it threw. */
async function runInBrowser(pageUrl: string, mcpUrl: string): Promise<unknown> {
  const context = await browser.newContext();
  try {
    const tab = await context.newPage();
    await tab.goto(pageUrl);
    return await tab.evaluate(
      (url) => (globalThis as unknown as { runMcp: (url: string) => Promise<unknown> }).runMcp(url).catch((error: Error) => ({ error: error.message })),
      mcpUrl,
    );
  } finally {
    await context.close();
  }
}

describe('a browser-based MCP client (the SDK client in Chromium)', () => {
  it('uses the server from a loopback origin: session, tool call and DELETE, all monitored', async () => {
    const server = await demo();
    const port = await servePage('127.0.0.1');
    expect(await runInBrowser(`http://localhost:${port}/`, server.url)).toEqual({
      tools: ['echo', 'sleep', 'fail', 'throw'],
      result: { content: [{ type: 'text', text: 'from the browser' }] },
    });
    const text = await scrape(server);
    expect(samples(text, 'mcp_server_sessions_total')).toEqual(['mcp_server_sessions_total{transport="streamable_http",client_name="browser-client"} 1']);
    expect(samples(text, 'mcp_server_sessions_closed_total')).toContain('mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 1');
  });

  it('is refused from any other origin, and the refusal is counted', async () => {
    const server = await demo();
    // 127.0.0.2 reaches this machine but is not a loopback name a browser page would be served from.
    const port = await servePage('127.0.0.2');
    const outcome = (await runInBrowser(`http://127.0.0.2:${port}/`, server.url)) as { error?: string };
    expect(outcome.error).toMatch(/Failed to fetch/);
    expect(server.tracker.totalCount).toBe(0);
    const rejected = samples(await scrape(server), 'mcp_server_requests_rejected_total').filter((line) => !line.endsWith(' 0'));
    expect(rejected).toEqual(['mcp_server_requests_rejected_total{reason="forbidden_host"} 1']);
  });
});
