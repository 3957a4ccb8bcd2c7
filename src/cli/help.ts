import { DEFINITIONS } from './settings.js';

/** A help line's left column, padded to `width`; one that is longer keeps two spaces before the text. */
export const pad = (text: string, width: number): string => (text.length >= width ? `${text}  ` : text.padEnd(width));

const WIDTH = 40;

function settingLines(): string[] {
  return [
    `${pad('  -h, --help', WIDTH)}Show this help.`,
    ...DEFINITIONS.map((def) => {
      const names = ['env' in def ? def.env : '', ...('aliases' in def ? def.aliases : [])].map((name) => `$${name}`).join(' or ');
      return `${pad(`      --${def.flag}${def.shown ? `=${def.shown}` : '=<value>'}`, WIDTH)}${def.help} (${names})`;
    }),
    `${pad('      --no-monitoring', WIDTH)}Serve MCP without session tracking or metrics ($MCP_NO_MONITORING=true or $MCP_CONNECTION_MONITORING_ENABLED=false).`,
  ];
}

const PROXY_FLAGS = [
  `${pad('      --stdio="<command> [args]"', WIDTH)}The stdio MCP server to run, one child per session.`,
  `${pad('      --env=NAME[=value]', WIDTH)}Also give the stdio child this variable (from this environment without =value). Repeatable.`,
  `${pad('      --upstream=<url>', WIDTH)}The Streamable HTTP MCP server to pass /mcp through to.`,
  `${pad('      --upstream-header="Name: value"', WIDTH)}Send this header on every upstream request. Repeatable.`,
  `${pad('      --upstream-header-file="Name: <path>"', WIDTH)}The same, the value read from a file (for secrets). Repeatable.`,
  'The values of --env and of upstream headers appear in no log line, error or /api/mcp/status.',
];

const ROUTES = [
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
  '  GET /                           a page with links to the above',
];

const NOTES = [
  'Bound to loopback (the default), /mcp takes only loopback Host and Origin headers',
  '(DNS-rebinding protection) and answers CORS preflights from loopback origins.',
  '',
  'OpenTelemetry metrics (--metrics-backend otel; the prom-client backend ignores them, and warns of OTLP ones):',
  '  OTEL_SDK_DISABLED=true                no OpenTelemetry metrics, no push; /metrics: process metrics only',
  '  OTEL_METRICS_EXPORTER                 prometheus (/metrics), otlp (push), both, or none',
  '                                        (default: prometheus, and otlp when an endpoint is set)',
  '  OTEL_EXPORTER_OTLP_ENDPOINT           where to push, http(s) URL (/v1/metrics is added over HTTP);',
  '  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT   or this one as it is (default localhost:4318, 4317 for grpc)',
  '  OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL http/protobuf (default), http/json or grpc; each needs its',
  '                                        @opentelemetry/exporter-metrics-otlp-{proto,http,grpc}',
  '  OTEL_METRIC_EXPORT_INTERVAL           push every this many ms (default 60000)',
  '  OTEL_SERVICE_NAME                     service.name (default mcp-exporter)',
  '  OTEL_RESOURCE_ATTRIBUTES              more resource attributes: k=v,k2=v2, percent-decoded',
  '  OTEL_EXPORTER_OTLP_HEADERS, ..._TIMEOUT, ..._COMPRESSION: read by the exporter; never logged.',
  'Traces (either backend): a SERVER span per MCP operation (mcp.method.name, gen_ai.tool.name, ...),',
  'child of the context the client sends in params._meta:',
  '  OTEL_TRACES_EXPORTER                  otlp or none (default: otlp when an endpoint is set)',
  '  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT    as it is; or OTEL_EXPORTER_OTLP_ENDPOINT with /v1/traces added',
  '  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL    http/protobuf (default), http/json or grpc',
  '  OTEL_TRACES_SAMPLER(_ARG)             the OpenTelemetry SDK\'s sampler (default parentbased_always_on)',
  'OTLP carries the semantic-convention names and attributes (mcp.server.operation.duration,',
  'mcp.method.name, gen_ai.tool.name, error.type, ...); /metrics the prom-client backend\'s names and labels.',
  '',
  'Durations take a unit (500ms, 30s, 5m, 1h) or are seconds. A bad setting stops the',
  'start with one line naming it and exit code 2.',
];

/** What each command does, as plain lines: the command list indents them, a command's own help does not. */
const SERVE = ['Host the built-in demo MCP server at /mcp, monitored (the default):', '2025 sessions and 2026-07-28 requests alike.'];
const PROXY = [
  'Monitor any MCP server, in any language: --stdio "<command> [args]"',
  'starts one child per session (and one for 2026-07-28 requests) and',
  'relays every message both ways; --upstream <url> passes /mcp through',
  'to a Streamable HTTP server, both eras.',
];

/** A command in the command list: its name, then what it does, continued under itself. */
const listed = (name: string, lines: readonly string[]): string[] => lines.map((line, i) => `  ${(i === 0 ? name : '').padEnd(11)}${line}`);

/** The head of each help: its usage and what comes before the routes. */
function head(command: 'serve' | 'proxy' | undefined): string[] {
  if (command === 'serve') return ['usage: mcp-exporter serve [<flags>]', '', ...SERVE, '', 'Flags:', ...settingLines()];
  if (command === 'proxy') {
    return [
      'usage: mcp-exporter proxy (--stdio="<command> [args]" | --upstream=<url>) [<flags>]',
      '',
      ...PROXY,
      '',
      'Proxy flags:',
      ...PROXY_FLAGS,
      '',
      'Flags (as serve):',
      ...settingLines(),
    ];
  }
  return [
    'usage: mcp-exporter <command> [<flags>]',
    '',
    'Session tracking, Prometheus metrics and a connections API for Model Context',
    'Protocol (MCP) servers.',
    '',
    'Commands:',
    ...listed('serve', SERVE),
    ...listed('proxy', PROXY),
    ...listed('loadgen', ['Drive real MCP client traffic at a server (see loadgen --help).']),
    ...listed('help', ["Show this help (help <command>: that command's)."]),
    ...listed('version', ['Print the version.']),
    '',
    "Flags (serve and proxy; mcp-exporter <command> --help shows a command's):",
    ...settingLines(),
    '',
    'Proxy flags:',
    ...PROXY_FLAGS,
  ];
}

/**
 * `--help`, in the layout of node_exporter's: flag, meaning, environment variable. With a
 * command (`serve --help`, `proxy --help`), that command's usage and flags first.
 */
export function helpText(version: string, command?: 'serve' | 'proxy'): string {
  return [...head(command), '', ...ROUTES, '', ...NOTES, `mcp-exporter ${version}`, ''].join('\n');
}
