import { DEFINITIONS } from './settings.js';

const pad = (text: string, width: number): string => (text.length >= width ? `${text}  ` : text.padEnd(width));

/** `--help`, in the layout of node_exporter's: flag, meaning, environment variable. */
export function helpText(version: string): string {
  const width = 40;
  const flags = DEFINITIONS.map((def) => {
    const left = `      --${def.flag}${def.shown ? `=${def.shown}` : '=<value>'}`;
    return `${pad(left, width)}${def.help} ($${def.env})`;
  });
  return [
    'usage: mcp-exporter <command> [<flags>]',
    '',
    'Session tracking, Prometheus metrics and a connections API for Model Context',
    'Protocol (MCP) servers.',
    '',
    'Commands:',
    '  serve      Host the built-in demo MCP server at /mcp, monitored (the default):',
    '             2025 sessions and 2026-07-28 requests alike.',
    '  proxy      Monitor any MCP server, in any language: --stdio "<command> [args]"',
    '             starts one child per session (and one for 2026-07-28 requests) and',
    '             relays every message both ways; --upstream <url> passes /mcp through',
    '             to a Streamable HTTP server, both eras.',
    '  loadgen    Drive real MCP client traffic at a server (see loadgen --help).',
    '  help       Show this help.',
    '  version    Print the version.',
    '',
    'Flags:',
    `${pad('  -h, --help', width)}Show this help.`,
    ...flags,
    `${pad('      --no-monitoring', width)}Serve MCP without session tracking or metrics ($MCP_CONNECTION_MONITORING_ENABLED=false).`,
    '',
    'Proxy flags:',
    `${pad('      --stdio="<command> [args]"', width)}The stdio MCP server to run, one child per session.`,
    `${pad('      --env=NAME[=value]', width)}Also give the stdio child this variable (from this environment without =value). Repeatable.`,
    `${pad('      --upstream=<url>', width)}The Streamable HTTP MCP server to pass /mcp through to.`,
    `${pad('      --upstream-header="Name: value"', width)}Send this header on every upstream request. Repeatable.`,
    `${pad('      --upstream-header-file="Name: <path>"', width)}The same, the value read from a file (for secrets). Repeatable.`,
    'The values of --env and of upstream headers appear in no log line, error or /api/mcp/status.',
    '',
    'Routes (same listener unless --admin-port):',
    '  POST|GET|DELETE /mcp            MCP over Streamable HTTP',
    '  GET /sse, POST /messages        the legacy HTTP+SSE transport',
    '  GET /metrics                    Prometheus text format (OpenMetrics on request)',
    '  GET /api/mcp/connections        open sessions and listen streams; ?kind=&limit=&offset=',
    '  GET /api/mcp/connections/count  open session count',
    '  GET /api/mcp/connections/history  closed sessions, newest first',
    '  GET /api/mcp/connections/events   live events (Server-Sent Events)',
    '  GET /api/mcp/connections/<id>   one session or listen stream, by its id',
    '  GET /api/mcp/clients            clients active in the last hour, sessions or not',
    '  GET /api/mcp/status | /health | /tools',
    '  GET /-/healthy, /-/ready        liveness and readiness; no token, no session data',
    '',
    'Bound to loopback (the default), /mcp takes only loopback Host and Origin headers',
    '(DNS-rebinding protection) and answers CORS preflights from loopback origins.',
    '',
    'With --metrics-backend otel, OTEL_EXPORTER_OTLP_ENDPOINT also pushes OTLP/HTTP',
    '(OTEL_METRIC_EXPORT_INTERVAL ms, OTEL_SERVICE_NAME).',
    '',
    'A bad setting stops the start with one line naming it and exit code 2.',
    `mcp-exporter ${version}`,
    '',
  ].join('\n');
}
