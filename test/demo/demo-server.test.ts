import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { createDemoServer, demoServerFactory } from '../../src/demo/demo-server.js';

/** The validator the SDK's Server holds (a private field: this pins the behavior serve relies on). */
const validatorOf = (server: McpServer): unknown => (server.server as unknown as { _jsonSchemaValidator: unknown })._jsonSchemaValidator;

describe('demo server', () => {
  it('builds servers from one factory around a single JSON Schema validator', async () => {
    const factory = demoServerFactory();
    const one = (await factory()) as McpServer;
    const two = (await factory()) as McpServer;
    expect(one).not.toBe(two); // a server per session, as the SDK requires
    expect(validatorOf(one)).toBeDefined();
    expect(validatorOf(one)).toBe(validatorOf(two));
    // Two factories share nothing.
    expect(validatorOf((await demoServerFactory()()) as McpServer)).not.toBe(validatorOf(one));
  });

  it('builds its own validator when called without one, as the SDK does', () => {
    expect(validatorOf(createDemoServer())).not.toBe(validatorOf(createDemoServer()));
  });
});
