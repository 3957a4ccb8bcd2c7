/**
 * `mcp-exporter/sdk-v1`: what hosts servers of the SDK v1 line (`@modelcontextprotocol/sdk`,
 * an optional peer dependency): `startMonitoredServer` and the hosts it is made of. The
 * package's root entry loads no SDK; this one loads the SDK v1 you installed.
 */
export { startMonitoredServer, listFactoryTools } from '../server.js';
export type { MonitoredServer, MonitoredServerOptions } from '../server.js';
export { startStreamableMcpServer } from '../compat.js';
export { StreamableHttpHost } from './streamable-http-host.js';
export type { ConnectableServer, ServerFactory, StreamableHttpHostOptions } from './streamable-http-host.js';
export { SseHost } from './sse-host.js';
export { BoundedEventStore } from './event-store.js';
