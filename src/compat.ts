import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { ConnectionMonitor } from './core/types.js';
import { startMonitoredServer, type MonitoredServer } from './server.js';
import type { ServerFactory } from './sdk-v1/streamable-http-host.js';

/**
 * The positional form of the earlier monitoring design, with the one change it needed:
 * a factory that builds a server per session instead of one shared server.
 */
export function startStreamableMcpServer(
  serverFactory: ServerFactory,
  endpoint: string,
  port: number,
  eventStore?: EventStore,
  connectionMonitor?: ConnectionMonitor,
): Promise<MonitoredServer> {
  return startMonitoredServer({ serverFactory, endpoint, port, eventStore, monitor: connectionMonitor });
}
