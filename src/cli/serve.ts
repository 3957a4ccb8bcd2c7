import { pino } from 'pino';
import { demoServerFactory } from '../demo/demo-server.js';
import { createDemoModernHandler } from '../demo/demo-server-v2.js';
import { httpUpstreamFactory, stdioServerFactory } from '../proxy/relay-bridge.js';
import { startMonitoredServer } from '../server.js';
import { setUpMetricsBackend, type BackendSetup } from './metrics-backend.js';
import { SettingError, type Settings } from './settings.js';

/**
 * `mcp-exporter serve` (the demo server) or `proxy` (a child process per session with
 * `stdio`, the command split into words; or a session on an `upstream` HTTP server),
 * monitored, until SIGINT or SIGTERM.
 */
export async function runServe(settings: Settings, version: string, proxy: { stdio?: readonly string[]; upstream?: URL } = {}): Promise<void> {
  const { stdio, upstream } = proxy;
  // Synchronous writes: the lines of a shutdown reach stdout in order, before the process exits.
  const logger = pino({ level: settings.logLevel, base: { service: 'mcp-exporter' } }, pino.destination({ dest: 1, sync: true }));
  let backend: BackendSetup | undefined;
  try {
    backend = settings.monitoring
      ? setUpMetricsBackend(settings.metricsBackend, process.env, version, logger, { clientNames: settings.clientNames })
      : undefined;
  } catch (error) {
    if (error instanceof SettingError) {
      process.stderr.write(`mcp-exporter: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  let server;
  try {
    server = await startMonitoredServer({
      serverFactory: stdio
        ? stdioServerFactory({ command: stdio[0] ?? '', args: stdio.slice(1) }, logger)
        : upstream
          ? httpUpstreamFactory(upstream, logger)
          : demoServerFactory(),
      // The demo answers both eras: 2025 sessions on the SDK v1, 2026-07-28 requests on the SDK v2.
      modernHandler: stdio || upstream ? undefined : createDemoModernHandler(),
      port: settings.port,
      host: settings.host,
      adminPort: settings.adminPort,
      adminToken: settings.adminToken,
      adminRoutes: settings.monitoring,
      registry: backend?.registry ?? null,
      monitor: backend?.monitors,
      metricsRenderer: backend?.metricsRenderer,
      logger,
      ipMasking: settings.ipMasking,
      sessionIdleTimeoutSeconds: settings.sessionIdleTimeoutSeconds,
      historyLimit: settings.historyLimit,
      trustProxy: settings.trustProxy,
      allowedHosts: settings.allowedHosts,
      allowedOrigins: settings.allowedOrigins,
      clientNames: settings.clientNames,
      maxSessions: settings.maxSessions,
      maxBodyBytes: settings.maxBodyBytes,
      config: {
        version,
        metricsBackend: settings.metricsBackend,
        ipMasking: settings.ipMasking,
        sessionIdleTimeoutSeconds: settings.sessionIdleTimeoutSeconds,
        historyLimit: settings.historyLimit,
        adminPort: settings.adminPort ?? null,
        adminTokenSet: settings.adminToken !== undefined,
        monitoring: settings.monitoring,
        mode: stdio ? 'proxy-stdio' : upstream ? 'proxy-http' : 'serve',
        trustProxy: settings.trustProxy,
        allowedHosts: settings.allowedHosts,
        allowedOrigins: settings.allowedOrigins,
        clientNames: settings.clientNames,
        maxSessions: settings.maxSessions,
        maxBodyBytes: settings.maxBodyBytes,
      },
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      process.stderr.write(`mcp-exporter: --port/--host: cannot listen on ${settings.host}:${settings.port} (${code})\n`);
      process.exit(2);
    }
    throw error;
  }
  logger.info(
    { event: 'listening', mcp: server.url, admin: settings.monitoring ? server.adminUrl : null, version },
    `MCP endpoint ${server.url}; metrics ${server.adminUrl}/metrics`,
  );

  const running = server;
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    const open = running.tracker.activeCount;
    logger.info({ event: 'shutdown', signal, openSessions: open }, 'closing every session, then exiting');
    running
      .close()
      .then(() => backend?.shutdown())
      .then(() => {
        logger.info({ event: 'stopped', sessionsClosed: open, sessionsTotal: running.tracker.totalCount }, 'stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error instanceof Error ? error.message : String(error) }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
