import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { useCliProcesses } from '../cli-process.js';
import { samples } from '../helpers.js';
import { useTestPeers } from '../peers.js';

const { start } = useCliProcesses();
const { listen } = useTestPeers();

const MODERN = '2026-07-28';
const envelope = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' } };
const call = (id: number, name: string): string => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {}, _meta: envelope } });

/**
 * An upstream written by hand, byte by byte, to see what the relay does with what a real
 * server may send: an answer split mid-frame with headers of its own, an answer cut short,
 * and one that never comes. `gone` resolves when a request's client side closed early.
 */
async function handMadeUpstream(): Promise<{ url: string; gone: Promise<void> }> {
  let leave: () => void = () => {};
  const gone = new Promise<void>((resolve) => (leave = resolve));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      const name = (JSON.parse(text || '{}') as { params?: { name?: string } }).params?.name;
      if (name === undefined) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32600, message: 'only tools/call here' }, id: null }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-upstream': 'hand-made', 'set-cookie': ['a=1', 'b=2'] });
      if (name === 'split') {
        res.write('event: message\ndata: {"jsonrpc":"2.0","id":');
        setImmediate(() => res.end('1,"result":{"content":[{"type":"text","text":"é"}]}}\n\n'));
      } else if (name === 'cut') {
        res.write('event: message\ndata: {"jsonrpc":"2.0",', () => res.destroy());
      } else {
        res.flushHeaders();
        res.once('close', () => leave());
      }
    });
  });
  return { url: `${await listen(server)}/mcp`, gone };
}

/** A raw POST through the proxy: status, headers and the body's exact text (or the error that ended it). */
function post(url: string, body: string, onHead?: (abort: () => void) => void): Promise<{ status: number; headers: IncomingMessage['headers']; text: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN } });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', (error) => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, error: (error as NodeJS.ErrnoException).code ?? error.message }));
      onHead?.(() => req.destroy());
    });
    req.on('error', (error) => resolve({ status: 0, headers: {}, text: '', error: (error as NodeJS.ErrnoException).code ?? error.message }));
    req.end(body);
  });
}

describe('proxy --upstream relays on node:http streams', () => {
  it('passes status, headers and bytes unchanged, and records each answer as it ends: whole, cut short, or left by its client', async () => {
    const upstream = await handMadeUpstream();
    const proxy = await start(['proxy', '--upstream', upstream.url]);

    const split = await post(proxy.url, call(1, 'split'));
    expect(split).toMatchObject({ status: 200, text: 'event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"é"}]}}\n\n' });
    expect([split.headers['content-type'], split.headers['x-upstream'], split.headers['set-cookie']]).toEqual(['text/event-stream', 'hand-made', ['a=1', 'b=2']]);

    const cut = await post(proxy.url, call(2, 'cut'));
    expect([cut.status, cut.text, cut.error]).toEqual([200, 'event: message\ndata: {"jsonrpc":"2.0",', 'ECONNRESET']);

    // The client hangs up while the upstream still works on it: the upstream sees its request go.
    const hang = await post(proxy.url, call(3, 'hang'), (abort) => abort());
    expect(hang.error).toBe('ECONNRESET');
    await upstream.gone;

    const text = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
    expect(samples(text, 'mcp_server_operation_duration_seconds_count')).toEqual([
      `mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="split",error_type="",mcp_protocol_version="${MODERN}"} 1`,
      `mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="other",error_type="_OTHER",mcp_protocol_version="${MODERN}"} 2`,
    ]);
    expect(samples(text, 'mcp_server_client_requests_total')).toEqual([`mcp_server_client_requests_total{client_name="raw",mcp_protocol_version="${MODERN}"} 3`]);
  });
});
