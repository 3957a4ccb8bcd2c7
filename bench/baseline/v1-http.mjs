// The MCP SDK v1's Streamable HTTP server as its README shows it: a transport and an
// McpServer per session, kept in a map by session id, the parsed body handed to
// handleRequest (the README's express.json(), here on plain node:http); the `echo` tool;
// answers as SSE streams (the SDK's default). Prints {"port":N} on stdout once it listens.
//
// `node v1-http.mjs [none|prom|otel]`: with a metrics backend, monitor.middleware() stands
// in front of the same handler and monitor.adminHandler serves /metrics: the lines marked
// "mcp-exporter", what a user adds. The middleware reads the body (there is no body parser
// on node:http) and leaves it as req.body, which the handler takes when it is there.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { listening, monitorOrNone } from './apps.mjs';

const transports = new Map();

function echoServer() {
  const server = new McpServer({ name: 'bench', version: '1.0.0' });
  server.registerTool('echo', { description: 'echo', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  return server;
}

async function newSession() {
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: (id) => void transports.set(id, transport) });
  transport.onclose = () => {
    if (transport.sessionId) transports.delete(transport.sessionId);
  };
  await echoServer().connect(transport);
  return transport;
}

// Read as lean as a server can (stream events, one concat): the baseline should be no
// slower than a careful user's; express.json() or an async iterator cost more.
function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('error', reject);
    req.on('end', () => {
      try {
        const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
        resolve(text === '' ? undefined : JSON.parse(text));
      } catch (error) {
        reject(error);
      }
    });
  });
}

async function handle(req, res) {
  let body = req.body;
  if (body === undefined) {
    try {
      body = await readJson(req);
    } catch {
      res.writeHead(400).end();
      return;
    }
  }
  const id = req.headers['mcp-session-id'];
  const transport = typeof id === 'string' ? transports.get(id) : await newSession();
  if (!transport) {
    res.writeHead(404).end();
    return;
  }
  await transport.handleRequest(req, res, body);
}

const monitor = await monitorOrNone(); // mcp-exporter
const middleware = monitor?.middleware(); // mcp-exporter
listening(
  createServer((req, res) => {
    if (!monitor) return void handle(req, res);
    if (req.url !== '/mcp') return monitor.adminHandler(req, res); // mcp-exporter
    middleware(req, res, () => void handle(req, res)); // mcp-exporter
  }),
);
