import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { z } from 'zod';
import type { ServerFactory } from '../sdk-v1/session-table.js';

/** Longest sleep the demo's `sleep` tool accepts, in milliseconds. */
export const MAX_SLEEP_MS = 60_000;

export interface DemoServerOptions {
  /** Validates elicitation answers. @default a new Ajv validator (built per server, about 150 µs) */
  jsonSchemaValidator?: jsonSchemaValidator;
}

type ToolResult = { content: { type: 'text'; text: string }[]; isError?: boolean };

/** One demo tool, for either SDK line: its input as a zod shape, and what it does (given the request's abort signal). */
interface DemoTool {
  name: string;
  description: string;
  shape: z.ZodRawShape;
  run(args: Record<string, unknown>, signal: AbortSignal | undefined): Promise<ToolResult>;
}

const text = (value: string): ToolResult => ({ content: [{ type: 'text', text: value }] });

/** Tools whose latency and outcomes are worth watching on a dashboard; the same under both SDK lines. */
export const DEMO_TOOLS: readonly DemoTool[] = [
  { name: 'echo', description: 'Returns the text it is given.', shape: { text: z.string() }, run: async (args) => text(String(args.text)) },
  {
    name: 'sleep',
    description: `Waits the given number of milliseconds (at most ${MAX_SLEEP_MS}), then answers.`,
    shape: { ms: z.number().int().min(0).max(MAX_SLEEP_MS) },
    run: async (args, signal) => {
      const ms = Number(args.ms);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return text(`slept ${ms} ms`);
    },
  },
  {
    name: 'fail',
    description: 'Answers with a tool error (a result with isError: true).',
    shape: { message: z.string().optional() },
    run: async (args) => ({ isError: true, content: [{ type: 'text', text: typeof args.message === 'string' ? args.message : 'the demo tool failed on purpose' }] }),
  },
  {
    name: 'throw',
    description: 'Throws inside the handler; the SDK turns it into a tool error.',
    shape: {},
    run: async () => {
      throw new Error('the demo tool threw on purpose');
    },
  },
];

/**
 * The demo server on the MCP SDK v1 (`@modelcontextprotocol/sdk`), for 2025 sessions.
 * One instance per session, as every server factory must build.
 */
export function createDemoServer(options: DemoServerOptions = {}): McpServer {
  const server = new McpServer({ name: 'mcp-exporter-demo', version: '0.1.0' }, { jsonSchemaValidator: options.jsonSchemaValidator });
  for (const tool of DEMO_TOOLS) {
    server.registerTool(tool.name, { description: tool.description, inputSchema: tool.shape }, (args: Record<string, unknown>, extra) => tool.run(args, extra.signal));
  }
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
