/**
 * The Grafana dashboards, built with Grafana's Foundation SDK from the metric names the
 * exporter itself uses (src/metrics/names.ts): renaming a metric there changes every query
 * here. `npm run dashboards` writes grafana/dashboards/*.json from this file, and
 * test/dashboards.test.ts fails when the shipped JSON is not what it builds.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  FieldColorBuilder,
  FieldColorModeId,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type DataTransformerConfig,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat, QueryEditorMode } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { METRIC as M } from '../../src/metrics/names.js';

/** Every query goes to the data source the dashboard's variable picks. */
const DS = { type: 'prometheus', uid: '${datasource}' };
/** The instances the job and instance variables select (both multi-value: matched with =~). */
const SEL = 'job=~"$job",instance=~"$instance"';

/** x, y, width, height on Grafana's 24-column grid. */
type Grid = [x: number, y: number, w: number, h: number];

interface PanelSpec {
  id: number;
  title: string;
  description: string;
  grid: Grid;
  unit?: string;
  decimals?: number;
  min?: number;
  max?: number;
  /** [color, from value] steps; the first from null. @default all green */
  thresholds?: [string, number | null][];
  targets: DataqueryBuilder[];
}

type Panel = StatBuilder | TimeseriesBuilder | TableBuilder | RowBuilder;

/** A PromQL query of a panel, drawn over time (or, for a table, evaluated once). */
function q(expr: string, legend: string, options: { exemplar?: boolean; table?: boolean } = {}): DataqueryBuilder {
  const query = new DataqueryBuilder().datasource(DS).editorMode(QueryEditorMode.Code).expr(expr).legendFormat(legend);
  if (options.table) query.instant().format(PromQueryFormat.Table);
  else query.range();
  if (options.exemplar) query.exemplar(true);
  return query;
}

const gridPos = ([x, y, w, h]: Grid) => ({ x, y, w, h });

function thresholds(steps: [string, number | null][] = [['green', null]]): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps.map(([color, value]) => ({ color, value })));
}

/** What every panel kind shares: identity, place, field defaults, queries (refIds A, B, ...). */
function base<B extends StatBuilder | TimeseriesBuilder | TableBuilder>(builder: B, spec: PanelSpec): B {
  builder.id(spec.id).title(spec.title).description(spec.description).datasource(DS).gridPos(gridPos(spec.grid)).thresholds(thresholds(spec.thresholds));
  if (spec.unit !== undefined) builder.unit(spec.unit);
  if (spec.decimals !== undefined) builder.decimals(spec.decimals);
  if (spec.min !== undefined) builder.min(spec.min);
  if (spec.max !== undefined) builder.max(spec.max);
  spec.targets.forEach((target, i) => builder.withTarget(target.refId(String.fromCharCode(65 + i))));
  return builder;
}

/** One number: the last value, with a sparkline or the series' names. */
function stat(spec: PanelSpec & { sparkline?: boolean; withNames?: boolean; noColor?: boolean }): StatBuilder {
  const panel = base(new StatBuilder(), spec)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('').values(false))
    .orientation(common.VizOrientation.Auto)
    .textMode(spec.withNames ? common.BigValueTextMode.ValueAndName : common.BigValueTextMode.Auto)
    .colorMode(common.BigValueColorMode.Value)
    .graphMode(spec.sparkline ? common.BigValueGraphMode.Area : common.BigValueGraphMode.None)
    .justifyMode(common.BigValueJustifyMode.Auto)
    .showPercentChange(false)
    .wideLayout(true);
  if (!spec.noColor) panel.colorScheme(new FieldColorBuilder().mode(FieldColorModeId.Thresholds));
  return panel;
}

/** Lines over time (stacked areas for shares of a whole), with a table legend sorted by max. */
function timeseries(spec: PanelSpec & { stacked?: boolean; legendCalcs?: string[] }): TimeseriesBuilder {
  return base(new TimeseriesBuilder(), spec)
    .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.PaletteClassic))
    .drawStyle(common.GraphDrawStyle.Line)
    .lineInterpolation(common.LineInterpolation.Linear)
    .lineWidth(1)
    .fillOpacity(spec.stacked ? 30 : 10)
    .gradientMode(common.GraphGradientMode.None)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false)
    .axisPlacement(common.AxisPlacement.Auto)
    .axisSoftMin(0)
    .stacking(new common.StackingConfigBuilder().mode(spec.stacked ? common.StackingMode.Normal : common.StackingMode.None).group('A'))
    .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Off))
    .legend(
      new common.VizLegendOptionsBuilder()
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .showLegend(true)
        .calcs(spec.legendCalcs ?? ['mean', 'max', 'lastNotNull'])
        .sortBy('Max')
        .sortDesc(true),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
}

/** Rows of instant queries joined into one table. */
function table(spec: PanelSpec & { sortBy: string; overrides?: { name: string; unit: string; decimals: number }[]; transformations?: DataTransformerConfig[] }): TableBuilder {
  const panel = base(new TableBuilder(), spec)
    .showHeader(true)
    .cellHeight(common.TableCellHeight.Sm)
    .footer(new common.TableFooterOptionsBuilder().show(false).reducer(['sum']).countRows(false).fields([]))
    .sortBy([new common.TableSortByFieldStateBuilder().displayName(spec.sortBy).desc(true)]);
  for (const override of spec.overrides ?? []) {
    panel.overrideByName(override.name, [
      { id: 'unit', value: override.unit },
      { id: 'decimals', value: override.decimals },
    ]);
  }
  if (spec.transformations) panel.transformations(spec.transformations);
  return panel;
}

function row(id: number, title: string, y: number): RowBuilder {
  return new RowBuilder(title).id(id).collapsed(false).gridPos({ x: 0, y, w: 24, h: 1 });
}

const OVERVIEW_PANELS: Panel[] = [
  stat({
    id: 1,
    title: 'Active sessions',
    description: 'MCP sessions open now, all selected instances together.',
    grid: [0, 0, 4, 4],
    unit: 'short',
    decimals: 0,
    sparkline: true,
    targets: [
      q(`sum(${M.sessionsActive}{${SEL}})`, 'active'),
    ],
  }),
  stat({
    id: 2,
    title: 'New sessions per second',
    description: 'Sessions established per second (MCP initialize), all selected instances together.',
    grid: [4, 0, 4, 4],
    unit: 'cps',
    sparkline: true,
    targets: [
      q(`sum(rate(${M.sessionsTotal}{${SEL}}[$__rate_interval]))`, 'new sessions'),
    ],
  }),
  stat({
    id: 3,
    title: 'Operations per second',
    description: 'JSON-RPC requests answered per second, every method.',
    grid: [8, 0, 4, 4],
    unit: 'ops',
    sparkline: true,
    targets: [
      q(`sum(rate(${M.operationDuration}_count{${SEL}}[$__rate_interval]))`, 'operations'),
    ],
  }),
  stat({
    id: 4,
    title: 'Operation error ratio',
    description: 'Share of operations with an error_type (JSON-RPC error, tool_error, _OTHER). The McpOperationErrorRatioHigh alert fires above 5%.',
    grid: [12, 0, 4, 4],
    unit: 'percentunit',
    decimals: 1,
    thresholds: [['green', null], ['orange', 0.01], ['red', 0.05]],
    sparkline: true,
    targets: [
      q(`sum(rate(${M.operationDuration}_count{${SEL},error_type!=""}[$__rate_interval])) / (sum(rate(${M.operationDuration}_count{${SEL}}[$__rate_interval])) > 0)`, 'error ratio'),
    ],
  }),
  stat({
    id: 5,
    title: 'Rejected requests per second',
    description: 'Requests refused before they reached a session (unknown or missing session, bad message, no admin token, ...), less the 405s and 406s a server answers on purpose (method_not_allowed, not_acceptable: see the panel by reason). The McpRejectedRequestsSurging alert fires above 1/s.',
    grid: [16, 0, 4, 4],
    unit: 'reqps',
    thresholds: [['green', null], ['orange', 0.1], ['red', 1]],
    sparkline: true,
    targets: [
      q(`sum(rate(${M.requestsRejectedTotal}{${SEL},reason!~"method_not_allowed|not_acceptable"}[$__rate_interval]))`, 'rejected'),
    ],
  }),
  stat({
    id: 6,
    title: 'Instances up',
    description: 'Selected instances Prometheus scraped successfully, of all selected.',
    grid: [20, 0, 4, 4],
    unit: 'short',
    decimals: 0,
    thresholds: [['red', null], ['green', 1]],
    withNames: true,
    targets: [
      q(`sum(up{${SEL}})`, 'up'),
      q(`count(up{${SEL}})`, 'targets'),
    ],
  }),
  timeseries({
    id: 7,
    title: 'Active sessions',
    description: 'Open sessions: all selected instances together, and by transport.',
    grid: [0, 4, 8, 8],
    unit: 'short',
    decimals: 0,
    min: 0,
    targets: [
      q(`sum(${M.sessionsActive}{${SEL}})`, 'total'),
      q(`sum by (transport) (${M.sessionsActive}{${SEL}})`, '{{transport}}'),
    ],
  }),
  timeseries({
    id: 8,
    title: 'Active sessions by client',
    description: "Open sessions by clientInfo.name (at most 20 names, then \"other\").",
    grid: [8, 4, 8, 8],
    unit: 'short',
    decimals: 0,
    min: 0,
    stacked: true,
    targets: [
      q(`sum by (client_name) (${M.sessionsActive}{${SEL}})`, '{{client_name}}'),
    ],
  }),
  timeseries({
    id: 9,
    title: 'New sessions per second by client',
    description: 'Sessions established per second, by client name, and the total. A sharp rise far above the last hour is what McpConnectionSpike pages on.',
    grid: [16, 4, 8, 8],
    unit: 'cps',
    min: 0,
    targets: [
      q(`sum(rate(${M.sessionsTotal}{${SEL}}[$__rate_interval]))`, 'total'),
      q(`sum by (client_name) (rate(${M.sessionsTotal}{${SEL}}[$__rate_interval]))`, '{{client_name}}'),
    ],
  }),
  timeseries({
    id: 10,
    title: 'Session closes per second by reason',
    description: "client_delete: the client ended it; idle_timeout: silent past --session-idle-timeout (clients that vanished); ping_timeout: held a stream open but did not answer the server's ping (--ping-timeout); server_shutdown; transport_error.",
    grid: [0, 12, 8, 8],
    unit: 'cps',
    min: 0,
    stacked: true,
    targets: [
      q(`sum by (reason) (rate(${M.sessionsClosedTotal}{${SEL}}[$__rate_interval]))`, '{{reason}}'),
    ],
  }),
  timeseries({
    id: 11,
    title: 'Session duration percentiles',
    description: 'How long sessions that ended in the interval lasted (buckets 1 s to 24 h): p50, p95, p99 and the mean.',
    grid: [8, 12, 8, 8],
    unit: 's',
    min: 0,
    targets: [
      q(`histogram_quantile(0.5, sum by (le) (rate(${M.sessionDuration}_bucket{${SEL}}[$__rate_interval])) and on () (sum(rate(${M.sessionDuration}_count{${SEL}}[$__rate_interval])) > 0))`, 'p50'),
      q(`histogram_quantile(0.95, sum by (le) (rate(${M.sessionDuration}_bucket{${SEL}}[$__rate_interval])) and on () (sum(rate(${M.sessionDuration}_count{${SEL}}[$__rate_interval])) > 0))`, 'p95'),
      q(`histogram_quantile(0.99, sum by (le) (rate(${M.sessionDuration}_bucket{${SEL}}[$__rate_interval])) and on () (sum(rate(${M.sessionDuration}_count{${SEL}}[$__rate_interval])) > 0))`, 'p99'),
      q(`sum(rate(${M.sessionDuration}_sum{${SEL}}[$__rate_interval])) / (sum(rate(${M.sessionDuration}_count{${SEL}}[$__rate_interval])) > 0)`, 'mean'),
    ],
  }),
  timeseries({
    id: 12,
    title: 'Session duration p95 by close reason',
    description: 'The 95th percentile lifetime of sessions, by why they ended.',
    grid: [16, 12, 8, 8],
    unit: 's',
    min: 0,
    targets: [
      q(`histogram_quantile(0.95, sum by (le, reason) (rate(${M.sessionDuration}_bucket{${SEL}}[$__rate_interval])) and on (reason) (sum by (reason) (rate(${M.sessionDuration}_count{${SEL}}[$__rate_interval])) > 0))`, '{{reason}}'),
    ],
  }),
  timeseries({
    id: 13,
    title: 'Operations per second by method',
    description: 'JSON-RPC requests answered per second, by MCP method.',
    grid: [0, 20, 12, 8],
    unit: 'ops',
    min: 0,
    stacked: true,
    targets: [
      q(`sum by (mcp_method_name) (rate(${M.operationDuration}_count{${SEL}}[$__rate_interval]))`, '{{mcp_method_name}}'),
    ],
  }),
  timeseries({
    id: 14,
    title: 'Tool calls per second by tool',
    description: "tools/call requests per second, by tool name (at most 200 names, then \"other\").",
    grid: [12, 20, 12, 8],
    unit: 'ops',
    min: 0,
    stacked: true,
    targets: [
      q(`sum by (gen_ai_tool_name) (rate(${M.operationDuration}_count{${SEL},mcp_method_name="tools/call"}[$__rate_interval]))`, '{{gen_ai_tool_name}}'),
    ],
  }),
  timeseries({
    id: 15,
    title: 'Latency by method (p50, p95, p99)',
    description: 'Time from a request arriving to its response, by method, all selected instances together. McpOperationLatencyHigh fires when a p95 stays above 2 s.',
    grid: [0, 28, 12, 9],
    unit: 's',
    min: 0,
    targets: [
      q(`histogram_quantile(0.5, sum by (le, mcp_method_name) (rate(${M.operationDuration}_bucket{${SEL}}[$__rate_interval])) and on (mcp_method_name) (sum by (mcp_method_name) (rate(${M.operationDuration}_count{${SEL}}[$__rate_interval])) > 0))`, 'p50 {{mcp_method_name}}', { exemplar: true }),
      q(`histogram_quantile(0.95, sum by (le, mcp_method_name) (rate(${M.operationDuration}_bucket{${SEL}}[$__rate_interval])) and on (mcp_method_name) (sum by (mcp_method_name) (rate(${M.operationDuration}_count{${SEL}}[$__rate_interval])) > 0))`, 'p95 {{mcp_method_name}}', { exemplar: true }),
      q(`histogram_quantile(0.99, sum by (le, mcp_method_name) (rate(${M.operationDuration}_bucket{${SEL}}[$__rate_interval])) and on (mcp_method_name) (sum by (mcp_method_name) (rate(${M.operationDuration}_count{${SEL}}[$__rate_interval])) > 0))`, 'p99 {{mcp_method_name}}', { exemplar: true }),
    ],
  }),
  timeseries({
    id: 16,
    title: 'Latency by tool (p50, p95, p99)',
    description: 'tools/call latency by tool: a slow tool usually means a slow backend behind it.',
    grid: [12, 28, 12, 9],
    unit: 's',
    min: 0,
    targets: [
      q(`histogram_quantile(0.5, sum by (le, gen_ai_tool_name) (rate(${M.operationDuration}_bucket{${SEL},mcp_method_name="tools/call"}[$__rate_interval])) and on (gen_ai_tool_name) (sum by (gen_ai_tool_name) (rate(${M.operationDuration}_count{${SEL},mcp_method_name="tools/call"}[$__rate_interval])) > 0))`, 'p50 {{gen_ai_tool_name}}', { exemplar: true }),
      q(`histogram_quantile(0.95, sum by (le, gen_ai_tool_name) (rate(${M.operationDuration}_bucket{${SEL},mcp_method_name="tools/call"}[$__rate_interval])) and on (gen_ai_tool_name) (sum by (gen_ai_tool_name) (rate(${M.operationDuration}_count{${SEL},mcp_method_name="tools/call"}[$__rate_interval])) > 0))`, 'p95 {{gen_ai_tool_name}}', { exemplar: true }),
      q(`histogram_quantile(0.99, sum by (le, gen_ai_tool_name) (rate(${M.operationDuration}_bucket{${SEL},mcp_method_name="tools/call"}[$__rate_interval])) and on (gen_ai_tool_name) (sum by (gen_ai_tool_name) (rate(${M.operationDuration}_count{${SEL},mcp_method_name="tools/call"}[$__rate_interval])) > 0))`, 'p99 {{gen_ai_tool_name}}', { exemplar: true }),
    ],
  }),
  timeseries({
    id: 17,
    title: 'Error ratio by tool',
    description: "Share of each tool's calls that failed (any error_type); tools without errors show 0.",
    grid: [0, 37, 8, 8],
    unit: 'percentunit',
    min: 0,
    max: 1,
    targets: [
      q(`(sum by (gen_ai_tool_name) (rate(${M.operationDuration}_count{${SEL},mcp_method_name="tools/call",error_type!=""}[$__rate_interval])) or 0 * sum by (gen_ai_tool_name) (rate(${M.operationDuration}_count{${SEL},mcp_method_name="tools/call"}[$__rate_interval]))) / (sum by (gen_ai_tool_name) (rate(${M.operationDuration}_count{${SEL},mcp_method_name="tools/call"}[$__rate_interval])) > 0)`, '{{gen_ai_tool_name}}'),
    ],
  }),
  timeseries({
    id: 18,
    title: 'Error ratio by error_type',
    description: 'Share of all operations that failed, by error_type: a JSON-RPC error code (-32601 method not found, -32602 invalid params, -32603 internal), tool_error (a tool result with isError), _OTHER (pending when its session ended).',
    grid: [8, 37, 8, 8],
    unit: 'percentunit',
    min: 0,
    stacked: true,
    targets: [
      q(`sum by (error_type) (rate(${M.operationDuration}_count{${SEL},error_type!=""}[$__rate_interval])) / ignoring (error_type) group_left () (sum(rate(${M.operationDuration}_count{${SEL}}[$__rate_interval])) > 0)`, '{{error_type}}'),
    ],
  }),
  table({
    id: 19,
    title: 'Error ratio by method, tool and error_type',
    description: 'For each method and tool with errors in the interval: the share of its operations that failed with each error_type, and the failures per second.',
    grid: [16, 37, 8, 8],
    unit: 'percentunit',
    decimals: 1,
    sortBy: 'error ratio',
    overrides: [{'name': 'errors/s', 'unit': 'ops', 'decimals': 3}],
    transformations: [{'id': 'merge', 'options': {}}, {'id': 'organize', 'options': {'excludeByName': {'Time': true}, 'indexByName': {'mcp_method_name': 0, 'gen_ai_tool_name': 1, 'error_type': 2, 'Value #A': 3, 'Value #B': 4}, 'renameByName': {'mcp_method_name': 'method', 'gen_ai_tool_name': 'tool', 'error_type': 'error_type', 'Value #A': 'error ratio', 'Value #B': 'errors/s'}}}],
    targets: [
      q(`sum by (mcp_method_name, gen_ai_tool_name, error_type) (rate(${M.operationDuration}_count{${SEL},error_type!=""}[$__rate_interval])) / ignoring (error_type) group_left () (sum by (mcp_method_name, gen_ai_tool_name) (rate(${M.operationDuration}_count{${SEL}}[$__rate_interval])) > 0)`, '', { table: true }),
      q(`sum by (mcp_method_name, gen_ai_tool_name, error_type) (rate(${M.operationDuration}_count{${SEL},error_type!=""}[$__rate_interval]))`, '', { table: true }),
    ],
  }),
  timeseries({
    id: 20,
    title: 'Rejected requests per second by reason',
    description: 'Requests refused before they reached a session. unknown_session: an ended or made-up session id; missing_session: no Mcp-Session-Id; parse_error / invalid_request: not MCP; payload_too_large: over 4 MiB; unauthorized: no admin token; forbidden_host: Host header not allowed.',
    grid: [0, 45, 16, 8],
    unit: 'reqps',
    min: 0,
    stacked: true,
    targets: [
      q(`sum by (reason) (rate(${M.requestsRejectedTotal}{${SEL}}[$__rate_interval]))`, '{{reason}}'),
    ],
  }),
  timeseries({
    id: 32,
    title: 'Unknown sessions refused, by instance (load balancer affinity)',
    description: 'Requests refused because this replica does not know their session, per replica. Steady on one replica while others hold open sessions: the load balancer sends 2025 sessions to replicas that did not make them (McpSessionAffinityBroken; deploy/ has configurations with affinity). One burst after a replica restarts is its old clients starting again.',
    grid: [16, 45, 8, 8],
    unit: 'reqps',
    min: 0,
    targets: [
      q(`sum by (instance) (rate(${M.requestsRejectedTotal}{${SEL},reason="unknown_session"}[$__rate_interval]))`, '{{instance}}'),
    ],
  }),
  row(21, 'Both protocol eras: 2025 sessions and 2026-07-28 requests', 53),
  stat({
    id: 22,
    title: 'Requests on 2026-07-28',
    description: 'Share of JSON-RPC requests that came in the 2026-07-28 revision (requests that stand alone, no session), across the selected instances.',
    grid: [0, 54, 4, 4],
    unit: 'percentunit',
    decimals: 1,
    thresholds: [['blue', null]],
    sparkline: true,
    targets: [
      q(`(sum(rate(${M.clientRequestsTotal}{${SEL},mcp_protocol_version="2026-07-28"}[$__rate_interval])) or vector(0)) / (sum(rate(${M.clientRequestsTotal}{${SEL}}[$__rate_interval])) > 0)`, '2026-07-28 share'),
    ],
  }),
  stat({
    id: 23,
    title: 'Active clients',
    description: 'client_name values with requests in the interval (at most the client_name cap; /api/mcp/clients lists each client).',
    grid: [0, 58, 4, 4],
    unit: 'short',
    decimals: 0,
    sparkline: true,
    targets: [
      q(`count(sum by (client_name) (rate(${M.clientRequestsTotal}{${SEL}}[$__rate_interval])) > 0)`, 'clients'),
    ],
  }),
  timeseries({
    id: 24,
    title: 'Requests per second by protocol version',
    description: "JSON-RPC requests by the protocol version they were served under: a 2025 session's negotiated version, or a 2026-07-28 request's own.",
    grid: [4, 54, 10, 8],
    unit: 'reqps',
    min: 0,
    stacked: true,
    targets: [
      q(`sum by (mcp_protocol_version) (rate(${M.clientRequestsTotal}{${SEL}}[$__rate_interval]))`, '{{mcp_protocol_version}}'),
    ],
  }),
  timeseries({
    id: 25,
    title: 'Requests per second by client and protocol version',
    description: 'Which clients use which era.',
    grid: [14, 54, 10, 8],
    unit: 'reqps',
    min: 0,
    stacked: true,
    targets: [
      q(`sum by (client_name, mcp_protocol_version) (rate(${M.clientRequestsTotal}{${SEL}}[$__rate_interval]))`, '{{client_name}} {{mcp_protocol_version}}'),
    ],
  }),
  timeseries({
    id: 26,
    title: 'Listen streams open',
    description: "subscriptions/listen streams open now (the 2026-07-28 era's long-lived connections), in total and by client.",
    grid: [0, 62, 8, 8],
    unit: 'short',
    decimals: 0,
    min: 0,
    targets: [
      q(`sum(${M.subscriptionsActive}{${SEL}})`, 'open'),
      q(`sum by (client_name) (${M.subscriptionsActive}{${SEL}})`, '{{client_name}}'),
    ],
  }),
  timeseries({
    id: 27,
    title: 'Listen streams opened and closed per second',
    description: 'Streams opened, and closed by reason (client_delete: the client left; server_shutdown; transport_error).',
    grid: [8, 62, 8, 8],
    unit: 'ops',
    min: 0,
    targets: [
      q(`sum(rate(${M.subscriptionsTotal}{${SEL}}[$__rate_interval]))`, 'opened'),
      q(`sum by (reason) (rate(${M.subscriptionDuration}_count{${SEL}}[$__rate_interval]))`, 'closed: {{reason}}'),
    ],
  }),
  timeseries({
    id: 28,
    title: 'Latency p95 by protocol version',
    description: '95th percentile of operation latency by protocol version: what moving a client to the new era costs or saves.',
    grid: [16, 62, 8, 8],
    unit: 's',
    min: 0,
    targets: [
      q(`histogram_quantile(0.95, sum by (le, mcp_protocol_version) (rate(${M.operationDuration}_bucket{${SEL}}[$__rate_interval])) and on (mcp_protocol_version) (sum by (mcp_protocol_version) (rate(${M.operationDuration}_count{${SEL}}[$__rate_interval])) > 0))`, 'p95 {{mcp_protocol_version}}', { exemplar: true }),
    ],
  }),
  row(29, 'Proxy: the MCP server behind it', 70),
  stat({
    id: 30,
    title: 'Server behind the proxy answers',
    description: 'Proxy instances (mcp-exporter proxy) whose MCP server answers, of those selected: mcp_exporter_upstream_up. The McpUpstreamDown alert fires when one has not answered for 2m. Empty for instances that are no proxy.',
    grid: [0, 71, 6, 8],
    unit: 'short',
    decimals: 0,
    thresholds: [['red', null], ['green', 1]],
    withNames: true,
    targets: [
      q(`sum(${M.upstreamUp}{${SEL}})`, 'answering'),
      q(`count(${M.upstreamUp}{${SEL}})`, 'proxies'),
    ],
  }),
  timeseries({
    id: 31,
    title: 'Server behind the proxy: failures per second by reason',
    description: 'Requests and checks the MCP server behind a proxy failed. connection_refused: not running there; timeout: accepts but does not answer; connection_reset: dropped mid-answer; unreachable: DNS or routing; server_error: a 5xx (502/503/504 make it down); start_failed: the --stdio command cannot start; child_exited: a stdio child exited on its own.',
    grid: [6, 71, 18, 8],
    unit: 'ops',
    min: 0,
    stacked: true,
    targets: [
      q(`sum by (reason) (rate(${M.upstreamFailuresTotal}{${SEL}}[$__rate_interval]))`, '{{reason}}'),
    ],
  }),
];

const PROCESS_PANELS: Panel[] = [
  stat({
    id: 1,
    title: 'Instances up',
    description: 'Selected instances Prometheus scraped successfully.',
    grid: [0, 0, 6, 4],
    unit: 'short',
    decimals: 0,
    thresholds: [['red', null], ['green', 1]],
    targets: [
      q(`sum(up{${SEL}})`, 'up'),
    ],
  }),
  stat({
    id: 2,
    title: 'Uptime',
    description: 'Time since each instance started.',
    grid: [6, 0, 6, 4],
    unit: 's',
    withNames: true,
    targets: [
      q(`time() - max by (instance) (process_start_time_seconds{${SEL}})`, '{{instance}}'),
    ],
  }),
  stat({
    id: 3,
    title: 'CPU (all instances)',
    description: 'CPU time used per second by all selected instances together (1 = one core busy).',
    grid: [12, 0, 6, 4],
    unit: 'percentunit',
    sparkline: true,
    targets: [
      q(`sum(rate(process_cpu_seconds_total{${SEL}}[$__rate_interval]))`, 'cpu'),
    ],
  }),
  stat({
    id: 4,
    title: 'Resident memory (all instances)',
    description: 'Resident set size of all selected instances together.',
    grid: [18, 0, 6, 4],
    unit: 'bytes',
    sparkline: true,
    targets: [
      q(`sum(process_resident_memory_bytes{${SEL}})`, 'rss'),
    ],
  }),
  timeseries({
    id: 5,
    title: 'Scrape status by instance',
    description: '1 when Prometheus scraped the instance, 0 when the scrape failed (McpExporterDown fires after 1 minute).',
    grid: [0, 4, 12, 8],
    unit: 'short',
    decimals: 0,
    min: 0,
    max: 1,
    legendCalcs: ['min', 'lastNotNull'],
    targets: [
      q(`max by (instance) (up{${SEL}})`, '{{instance}}'),
    ],
  }),
  timeseries({
    id: 6,
    title: 'CPU by instance',
    description: 'CPU seconds per second, user and system (1 = one core busy). Node.js runs JavaScript on one core.',
    grid: [12, 4, 12, 8],
    unit: 'percentunit',
    min: 0,
    targets: [
      q(`sum by (instance) (rate(process_cpu_user_seconds_total{${SEL}}[$__rate_interval]))`, 'user {{instance}}'),
      q(`sum by (instance) (rate(process_cpu_system_seconds_total{${SEL}}[$__rate_interval]))`, 'system {{instance}}'),
    ],
  }),
  timeseries({
    id: 7,
    title: 'Memory by instance',
    description: 'Resident set size, V8 heap used and heap total.',
    grid: [0, 12, 12, 8],
    unit: 'bytes',
    min: 0,
    targets: [
      q(`sum by (instance) (process_resident_memory_bytes{${SEL}})`, 'rss {{instance}}'),
      q(`sum by (instance) (nodejs_heap_size_used_bytes{${SEL}})`, 'heap used {{instance}}'),
      q(`sum by (instance) (nodejs_heap_size_total_bytes{${SEL}})`, 'heap total {{instance}}'),
    ],
  }),
  timeseries({
    id: 8,
    title: 'Event-loop lag by instance',
    description: 'How late the event loop runs timers (p50, p99 over the sampling window): high lag delays every request on that instance.',
    grid: [12, 12, 12, 8],
    unit: 's',
    min: 0,
    targets: [
      q(`max by (instance) (nodejs_eventloop_lag_p50_seconds{${SEL}})`, 'p50 {{instance}}'),
      q(`max by (instance) (nodejs_eventloop_lag_p99_seconds{${SEL}})`, 'p99 {{instance}}'),
    ],
  }),
  timeseries({
    id: 9,
    title: 'Time in garbage collection by instance',
    description: 'Share of time spent in GC pauses, by instance and GC kind.',
    grid: [0, 20, 12, 8],
    unit: 'percentunit',
    min: 0,
    targets: [
      q(`sum by (instance, kind) (rate(nodejs_gc_duration_seconds_sum{${SEL}}[$__rate_interval]))`, '{{kind}} {{instance}}'),
    ],
  }),
  timeseries({
    id: 10,
    title: 'Open file descriptors and active handles by instance',
    description: 'Open file descriptors (sockets included) and libuv handles by type: a steady climb is a leak.',
    grid: [12, 20, 12, 8],
    unit: 'short',
    decimals: 0,
    min: 0,
    targets: [
      q(`sum by (instance) (process_open_fds{${SEL}})`, 'fds {{instance}}'),
      q(`sum by (instance, type) (nodejs_active_handles{${SEL}})`, '{{type}} {{instance}}'),
    ],
  }),
];
interface DashboardSpec {
  file: string;
  uid: string;
  title: string;
  description: string;
  panels: Panel[];
}

const DASHBOARDS: DashboardSpec[] = [
  {
    file: 'mcp-overview.json',
    uid: 'mcp-exporter-overview',
    title: 'MCP sessions and operations',
    description: 'Sessions, operations, errors and rejected requests of MCP servers monitored by mcp-exporter.',
    panels: OVERVIEW_PANELS,
  },
  {
    file: 'mcp-process.json',
    uid: 'mcp-exporter-process',
    title: 'MCP exporter process',
    description: 'CPU, memory, event-loop lag, GC and handles of mcp-exporter processes.',
    panels: PROCESS_PANELS,
  },
];

/**
 * The variables every dashboard has: the data source, and the jobs and instances that serve
 * mcp-exporter's metrics. Both are multi-value with All and no allValue, so All is the values
 * their queries find, never another job of a shared Prometheus.
 */
function variables(builder: DashboardBuilder): DashboardBuilder {
  return builder
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'))
    .withVariable(
      new QueryVariableBuilder('job')
        .label('Job')
        .datasource(DS)
        .query(`label_values(${M.requestsRejectedTotal}, job)`)
        .multi(true)
        .includeAll(true)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc),
    )
    .withVariable(
      new QueryVariableBuilder('instance')
        .label('Instance')
        .datasource(DS)
        .query(`label_values(up{job=~"$job"}, instance)`)
        .multi(true)
        .includeAll(true)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc),
    );
}

/** Each dashboard as Grafana takes it. */
export function buildDashboards(): { file: string; dashboard: Dashboard }[] {
  return DASHBOARDS.map((spec) => {
    const builder = variables(
      new DashboardBuilder(spec.title)
        .uid(spec.uid)
        .description(spec.description)
        .tags(['mcp', 'mcp-exporter'])
        .refresh('30s')
        .time({ from: 'now-1h', to: 'now' })
        .timezone('')
        .tooltip(DashboardCursorSync.Crosshair)
        .annotation(
          new AnnotationQueryBuilder()
            .name('Annotations & Alerts')
            .datasource({ type: 'grafana', uid: '-- Grafana --' })
            .enable(true)
            .hide(true)
            .iconColor('rgba(0, 211, 255, 1)')
            .builtIn(1)
            .type('dashboard'),
        )
        .link(new DashboardLinkBuilder('MCP dashboards').type(DashboardLinkType.Dashboards).tags(['mcp-exporter']).asDropdown(false).includeVars(true).keepTime(true).targetBlank(false).icon('external link')),
    );
    for (const panel of spec.panels) {
      if (panel instanceof RowBuilder) builder.withRow(panel);
      else builder.withPanel(panel);
    }
    // Schema 39: Grafana 11.3 and later read it (the compose stack's 13.2 migrates it on load); nothing here needs a newer one.
    return { file: spec.file, dashboard: { ...builder.build(), schemaVersion: 39 } };
  });
}

/** A dashboard as the repository ships it. */
export const dashboardText = (dashboard: Dashboard): string => `${JSON.stringify(dashboard, null, 2)}\n`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const { file, dashboard } of buildDashboards()) {
    const path = fileURLToPath(new URL(`../dashboards/${file}`, import.meta.url));
    writeFileSync(path, dashboardText(dashboard));
    process.stdout.write(`wrote ${path}\n`);
  }
}
