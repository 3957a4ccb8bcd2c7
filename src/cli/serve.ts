import { pino } from 'pino';
import { demoServerFactory } from '../demo/demo-server.js';
import { createDemoModernHandler } from '../demo/demo-server-v2.js';
import type { Logger } from '../core/logger.js';
import { HttpUpstream } from '../proxy/http-upstream.js';
import { probeHttpUpstream } from '../proxy/probe.js';
import { httpUpstreamFactory, stdioServerFactory, stdioTransport } from '../proxy/relay-bridge.js';
import { StdioModernRelay } from '../proxy/stdio-modern.js';
import { StdioSessions } from '../proxy/stdio-sessions.js';
import { UpstreamWatch, type CheckResult } from '../proxy/upstream-watch.js';
import { listFactoryTools, startMonitoredServer, type MonitoredServerOptions } from '../server.js';
import { BoundedEventStore } from '../sdk-v1/event-store.js';
import { setUpMetricsBackend, type BackendSetup } from './metrics-backend.js';
import { setUpTracing, type TracingSetup } from './tracing.js';
import { SettingError, type Settings } from './settings.js';

/**
 * `mcp-exporter serve` (the demo server) or `proxy` (a child process per session with
 * `stdio`, the command split into words; or a session on an `upstream` HTTP server),
 * monitored, until SIGINT or SIGTERM.
 */
/** What the proxy commands add: the stdio command and its child's extra environment, or the upstream URL and the headers sent to it. */
export interface ProxyTarget {
  stdio?: readonly string[];
  env?: Readonly<Record<string, string>>;
  upstream?: URL;
  headers?: Readonly<Record<string, string>>;
}

export async function runServe(settings: Settings, version: string, proxy: ProxyTarget = {}): Promise<void> {
  const { stdio, upstream } = proxy;
  // Synchronous writes: the lines of a shutdown reach stdout in order, before the process exits.
  const logger = pino({ level: settings.logLevel, base: { service: 'mcp-exporter' } }, pino.destination({ dest: 1, sync: true }));
  let backend: BackendSetup | undefined;
  let tracing: TracingSetup | undefined;
  try {
    backend = settings.monitoring
      ? await setUpMetricsBackend(settings.metricsBackend, process.env, version, logger, { clientNames: settings.clientNames })
      : undefined;
    tracing = settings.monitoring ? await setUpTracing(process.env, version, logger, settings.metricsBackend !== 'otel') : undefined;
  } catch (error) {
    if (error instanceof SettingError) {
      process.stderr.write(`mcp-exporter: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const mcp = await mcpSide(proxy, logger, settings);
  let server;
  try {
    server = await startMonitoredServer({
      ...mcp,
      port: settings.port,
      host: settings.host,
      adminPort: settings.adminPort,
      adminToken: settings.adminToken,
      adminRoutes: settings.monitoring,
      registry: backend?.registry ?? null,
      monitor: backend?.monitors,
      tracerProvider: tracing?.tracerProvider ?? null,
      metricsRenderer: backend?.metricsRenderer,
      logger,
      ipMasking: settings.ipMasking,
      sessionIdleTimeoutSeconds: settings.sessionIdleTimeoutSeconds,
      heartbeatIntervalSeconds: settings.heartbeatIntervalSeconds,
      pingIntervalSeconds: settings.pingIntervalSeconds,
      pingTimeoutSeconds: settings.pingTimeoutSeconds,
      historyLimit: settings.historyLimit,
      trustProxy: settings.trustProxy,
      allowedHosts: settings.allowedHosts,
      allowedOrigins: settings.allowedOrigins,
      clientNames: settings.clientNames,
      maxSessions: settings.maxSessions,
      maxBodyBytes: settings.maxBodyBytes,
      readyWhenUpstreamDown: settings.readyWhenUpstreamDown,
      // --upstream passes /mcp through: resumption is the upstream's own.
      ...(settings.eventStoreSize > 0 && !upstream ? { eventStore: new BoundedEventStore(settings.eventStoreSize) } : {}),
      config: {
        version,
        metricsBackend: settings.metricsBackend,
        ipMasking: settings.ipMasking,
        sessionIdleTimeoutSeconds: settings.sessionIdleTimeoutSeconds,
        heartbeatIntervalSeconds: settings.heartbeatIntervalSeconds,
        pingIntervalSeconds: settings.pingIntervalSeconds,
        pingTimeoutSeconds: settings.pingTimeoutSeconds,
        historyLimit: settings.historyLimit,
        adminPort: settings.adminPort ?? null,
        adminTokenSet: settings.adminToken !== undefined,
        monitoring: settings.monitoring,
        mode: stdio ? 'proxy-stdio' : upstream ? 'proxy-http' : 'serve',
        // Names only: the values may be secrets.
        ...(proxy.env ? { childEnv: Object.keys(proxy.env) } : {}),
        ...(proxy.headers ? { upstreamHeaders: Object.keys(proxy.headers) } : {}),
        trustProxy: settings.trustProxy,
        allowedHosts: settings.allowedHosts,
        allowedOrigins: settings.allowedOrigins,
        clientNames: settings.clientNames,
        maxSessions: settings.maxSessions,
        maxBodyBytes: settings.maxBodyBytes,
        eventStoreSize: upstream ? 0 : settings.eventStoreSize,
        ...(stdio || upstream ? { upstreamCheckIntervalSeconds: settings.upstreamCheckIntervalSeconds, readyWhenUpstreamDown: settings.readyWhenUpstreamDown } : {}),
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
  // A stdio child that exits ends its session at once.
  const exchanges = server.monitor.exchanges;
  if (mcp.stdioSessions) mcp.stdioSessions.onSessionGone = (sessionId) => exchanges.sessionGone(sessionId);
  // The server behind the proxy is watched: what its traffic finds, and a check when it is silent.
  if (mcp.upstream) {
    const target = mcp.upstream;
    target.watch = new UpstreamWatch({ tracker: server.tracker, intervalMs: settings.upstreamCheckIntervalSeconds * 1000, check: () => target.check() });
    if (mcp.answeredAtStart) target.watch.answered();
    else await target.watch.check();
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
      .then(() => Promise.all([backend?.shutdown(), tracing?.shutdown()]))
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

type McpSide = Pick<MonitoredServerOptions, 'serverFactory' | 'modernHandler' | 'legacyHandler' | 'endpointHandler' | 'tools' | 'endWireSession'> & {
  stdioSessions?: StdioSessions;
  /** The server behind the proxy, as the watch checks it. */
  upstream?: { check(): Promise<CheckResult>; watch: UpstreamWatch | undefined };
  /** The server behind the proxy answered the probe at start: up, with no second look. */
  answeredAtStart?: boolean;
};

/**
 * What answers MCP: the demo (both eras: 2025 sessions on the SDK v1, 2026-07-28 requests on
 * the SDK v2), an HTTP upstream (every /mcp request passed through; the legacy SSE front
 * relayed to it), or a stdio command. An upstream that is down or refuses is logged in one
 * line and never stops the start: clients get a clear error until it answers.
 */
async function mcpSide(proxy: ProxyTarget, logger: Logger, settings: Settings): Promise<McpSide> {
  const { stdio, upstream, env, headers } = proxy;
  if (upstream) {
    const passThrough = new HttpUpstream({ url: upstream, ...(headers ? { headers } : {}) });
    const found = await probeHttpUpstream(passThrough);
    const where = `${upstream.origin}${upstream.pathname}`;
    if (found.error !== undefined) {
      logger.warn({ event: 'upstream', upstream: where, reachable: false, reason: found.error }, `the upstream MCP server at ${where} did not answer (${found.error}); clients get 502 until it does`);
    } else {
      logger.info(
        { event: 'upstream', upstream: where, reachable: true, versions: found.versions, tools: found.tools.length },
        `the upstream MCP server at ${where} speaks ${found.versions.join(', ') || 'no version this proxy knows'}; ${found.tools.length} tools`,
      );
    }
    return {
      serverFactory: httpUpstreamFactory(upstream, logger, headers),
      endpointHandler: passThrough,
      upstream: passThrough,
      answeredAtStart: found.error === undefined,
      tools: found.tools,
      endWireSession: (sessionId, protocolVersion) => passThrough.endSession(sessionId, protocolVersion),
    };
  }
  if (stdio) {
    const spec = { command: stdio[0] ?? '', args: stdio.slice(1), ...(env ? { env } : {}) };
    // The legacy SSE front (and the tool listing at start) relay through the SDK's transports.
    const serverFactory = stdioServerFactory(spec, logger);
    // /mcp's 2025 sessions: a child each, relayed line by line, followed on the wire.
    const stdioSessions = new StdioSessions({
      spec,
      logger,
      maxSessions: settings.maxSessions,
      heartbeatIntervalMs: settings.heartbeatIntervalSeconds * 1000,
      eventStoreSize: settings.eventStoreSize,
    });
    // 2026-07-28 requests go to one child that speaks that era (an SDK v2 stdio server does).
    const modernHandler = new StdioModernRelay(() => stdioTransport(spec, (fields, message, level = 'info') => logger[level]({ ...fields, session: 'modern' }, message)), spec.command, logger);
    // Both eras' children tell one watch; a check starts the command once and initializes it.
    const upstream = {
      check: () => stdioSessions.check(),
      set watch(watch: UpstreamWatch | undefined) {
        stdioSessions.watch = watch;
        modernHandler.watch = watch;
      },
      get watch() {
        return stdioSessions.watch;
      },
    };
    const side = { serverFactory, legacyHandler: stdioSessions, modernHandler, stdioSessions, upstream, endWireSession: (sessionId: string) => stdioSessions.endSession(sessionId) };
    try {
      const tools = await listFactoryTools(serverFactory);
      logger.info({ event: 'upstream', command: stdio[0], tools: tools.length }, `the stdio MCP server (${stdio[0]}) answered; ${tools.length} tools`);
      return { ...side, tools, answeredAtStart: true };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      logger.warn({ event: 'upstream', command: stdio[0], reachable: false, reason }, `the stdio MCP server (${stdio[0]}) did not answer at start (${reason}); each session starts it again`);
      return { ...side, tools: [] };
    }
  }
  return { serverFactory: demoServerFactory(), modernHandler: createDemoModernHandler() };
}
