import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { z } from 'zod';
import type { ServerFactory } from '../transport/session-table.js';

/** Longest sleep the demo's `sleep` tool accepts, in milliseconds. */
export const MAX_SLEEP_MS = 60_000;

export interface DemoServerOptions {
  /** Validates elicitation answers. @default a new Ajv validator (built per server, about 150 µs) */
  jsonSchemaValidator?: jsonSchemaValidator;
}

/**
 * The demo server: tools whose latency and outcomes are worth watching on a dashboard.
 * One instance per session, as every server factory must build.
 */
export function createDemoServer(options: DemoServerOptions = {}): McpServer {
  const server = new McpServer({ name: 'mcp-exporter-demo', version: '0.1.0' }, { jsonSchemaValidator: options.jsonSchemaValidator });

  server.registerTool(
    'echo',
    { description: 'Returns the text it is given.', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );

  server.registerTool(
    'sleep',
    {
      description: `Waits the given number of milliseconds (at most ${MAX_SLEEP_MS}), then answers.`,
      inputSchema: { ms: z.number().int().min(0).max(MAX_SLEEP_MS) },
    },
    async ({ ms }, extra) => {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        extra.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return { content: [{ type: 'text', text: `slept ${ms} ms` }] };
    },
  );

  server.registerTool(
    'fail',
    { description: 'Answers with a tool error (a result with isError: true).', inputSchema: { message: z.string().optional() } },
    async ({ message }) => ({ isError: true, content: [{ type: 'text', text: message ?? 'the demo tool failed on purpose' }] }),
  );

  server.registerTool(
    'throw',
    { description: 'Throws inside the handler; the SDK turns it into a tool error.', inputSchema: {} },
    async () => {
      throw new Error('the demo tool threw on purpose');
    },
  );

  return server;
}

/**
 * A factory of demo servers that share one JSON Schema validator. The SDK builds a new
 * Ajv instance for every server otherwise, about a fifth of the CPU a session's setup
 * takes. Sharing is safe here because the demo asks no elicitation: Ajv keeps every
 * schema it compiles, so a server that validates schemas built per request should keep
 * its own validator.
 */
export function demoServerFactory(): ServerFactory {
  const jsonSchemaValidator = new AjvJsonSchemaValidator();
  return () => createDemoServer({ jsonSchemaValidator });
}
