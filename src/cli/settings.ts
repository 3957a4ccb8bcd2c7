import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { IP_MASKING_MODES, type IpMaskingMode } from '../core/ip-masking.js';
import { parseRange } from '../core/trusted-proxies.js';
import { MAX_NAME_LENGTH } from '../core/bounded-text.js';

/** --client-names takes at most this many: each is a series of every session metric. */
const MAX_CLIENT_NAMES = 200;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const METRICS_BACKENDS = ['prom-client', 'otel'] as const;
export type MetricsBackend = (typeof METRICS_BACKENDS)[number];

/** Every setting of `serve`, resolved and checked. */
export interface Settings {
  port: number;
  host: string;
  adminPort: number | undefined;
  adminToken: string | undefined;
  /** In seconds, like every duration here (flags take 30s, 5m, 1h too). */
  sessionIdleTimeoutSeconds: number;
  /** SSE comment on idle legacy SSE streams this often; 0: never. */
  heartbeatIntervalSeconds: number;
  /** MCP ping to each session holding a stream open this often; 0: never. */
  pingIntervalSeconds: number;
  /** A session whose client does not answer its ping within this is closed as ping_timeout. */
  pingTimeoutSeconds: number;
  metricsBackend: MetricsBackend;
  ipMasking: IpMaskingMode;
  historyLimit: number;
  logLevel: LogLevel;
  monitoring: boolean;
  trustProxy: string[];
  allowedHosts: string[];
  allowedOrigins: string[];
  clientNames: string[];
  maxSessions: number;
  maxBodyBytes: number;
  /** Stream events kept for clients that resume with Last-Event-ID; 0 keeps none. */
  eventStoreSize: number;
  /** Proxy: check the server behind when silent this long; 0: never. */
  upstreamCheckIntervalSeconds: number;
  /** Proxy: /-/ready answers 200 even while the server behind does not answer. */
  readyWhenUpstreamDown: boolean;
}

/** A bad setting: the message names it and says what would be accepted. */
export class SettingError extends Error {
  override readonly name = 'SettingError';
}

interface Definition<K extends keyof Settings> {
  key: K;
  flag: string;
  /** MCP_ and the flag's name: the environment variable that mirrors the flag. */
  env: string;
  /** Older names of the same variable, still read when the mirrored one is unset. */
  aliases?: readonly string[];
  /** Shown in --help: the default, as a user would type it. */
  shown: string;
  help: string;
  parse: (raw: string, where: string) => Settings[K];
}

const port =
  (allowZero: boolean) =>
  (raw: string, where: string): number => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || value > 65535 || (!allowZero && value === 0)) {
      throw new SettingError(`${where}: "${raw}" is not a port; use a whole number from ${allowZero ? 0 : 1} to 65535`);
    }
    return value;
  };

const wholeNumber =
  (min: number, max: number, unit = '') =>
  (raw: string, where: string): number => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
      throw new SettingError(`${where}: "${raw}" is out of range; use a whole number from ${min} to ${max}${unit}`);
    }
    return value;
  };

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** A duration in seconds: a number of seconds, or a number with a unit (500ms, 30s, 5m, 1h) as Prometheus writes them. */
const duration =
  (min: number, max: number) =>
  (raw: string, where: string): number => {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
    if (!match) throw new SettingError(`${where}: "${raw}" is not a duration; use e.g. 30s, 5m, 1h, or a number of seconds`);
    const seconds = Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1);
    if (seconds < min || seconds > max) throw new SettingError(`${where}: "${raw}" is out of range; use ${min}s to ${max}s (e.g. 30s, 5m, 1h)`);
    return seconds;
  };

const oneOf =
  <T extends string>(choices: readonly T[]) =>
  (raw: string, where: string): T => {
    const found = choices.find((choice) => choice === raw);
    if (found === undefined) throw new SettingError(`${where}: "${raw}" is not one of ${choices.join(', ')}`);
    return found;
  };

const yesNo = (raw: string, where: string): boolean => oneOf(['true', 'false'] as const)(raw, where) === 'true';

const bindAddress = (raw: string, where: string): string => {
  if (raw === 'localhost' || isIP(raw) !== 0) return raw;
  throw new SettingError(`${where}: "${raw}" is not an IP address; use e.g. 127.0.0.1, 0.0.0.0 or ::`);
};

const list = (raw: string): string[] =>
  raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

const cidrList = (raw: string, where: string): string[] => {
  const items = list(raw);
  for (const item of items) {
    if (!parseRange(item)) throw new SettingError(`${where}: "${item}" is not an IP address or CIDR; use e.g. 10.0.0.0/8,127.0.0.1`);
  }
  return items;
};

const hostList = (raw: string, where: string): string[] => {
  const items = list(raw);
  for (const item of items) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(item)) throw new SettingError(`${where}: "${item}" is not a host or host:port`);
  }
  return items;
};

const originList = (raw: string, where: string): string[] => {
  const items = list(raw);
  for (const item of items) {
    if (item === '*') continue;
    let url: URL | undefined;
    try {
      url = new URL(item);
    } catch {
      url = undefined;
    }
    if (!url || url.origin !== item) throw new SettingError(`${where}: "${item}" is not an origin; use e.g. https://app.example.com, or * for any`);
  }
  return items;
};

const clientNameList = (raw: string, where: string): string[] => {
  const items = list(raw);
  for (const item of items) {
    if (item.length > MAX_NAME_LENGTH) throw new SettingError(`${where}: "${item.slice(0, 40)}..." is longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (items.length > MAX_CLIENT_NAMES) throw new SettingError(`${where}: ${items.length} names; at most ${MAX_CLIENT_NAMES}`);
  return items;
};

const token = (raw: string, where: string): string => {
  if (raw.trim() === '' || /\s/.test(raw)) throw new SettingError(`${where}: the token must be non-empty and contain no white space`);
  return raw;
};

/** The token in a file (a trailing newline is not part of it); the message never shows the content. */
const tokenFile = (path: string, where: string): string => {
  let content: string;
  try {
    content = readFileSync(path, 'utf8').trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new SettingError(`${where}: cannot read the file (${code})`);
  }
  return token(content, where);
};

/** The settings of `serve`, in --help order. */
export const DEFINITIONS = [
  { key: 'port', flag: 'port', env: 'MCP_PORT', shown: '3000', help: 'Port of the MCP endpoint (and of /metrics and /api unless --admin-port).', parse: port(true) },
  { key: 'host', flag: 'host', env: 'MCP_HOST', shown: '127.0.0.1', help: 'Address to bind; 0.0.0.0 or :: to accept remote clients.', parse: bindAddress },
  { key: 'adminPort', flag: 'admin-port', env: 'MCP_ADMIN_PORT', shown: '', help: 'Serve /metrics and /api/mcp/* only on this port, apart from /mcp.', parse: port(true) },
  { key: 'adminToken', flag: 'admin-token', env: 'MCP_ADMIN_TOKEN', shown: '', help: 'Bearer token required on /metrics and /api/mcp/* (shows in ps: prefer --admin-token-file).', parse: token },
  { key: 'adminToken', flag: 'admin-token-file', env: 'MCP_ADMIN_TOKEN_FILE', shown: '', help: 'File holding the admin token (a Docker or Kubernetes secret).', parse: tokenFile },
  { key: 'sessionIdleTimeoutSeconds', flag: 'session-idle-timeout', env: 'MCP_SESSION_IDLE_TIMEOUT', shown: '30m', help: 'Close sessions silent this long (0: never).', parse: duration(0, 604800) },
  { key: 'heartbeatIntervalSeconds', flag: 'heartbeat-interval', env: 'MCP_HEARTBEAT_INTERVAL', shown: '15s', help: 'Write an SSE comment on each legacy /sse stream this often (0: never).', parse: duration(0, 86400) },
  { key: 'pingIntervalSeconds', flag: 'ping-interval', env: 'MCP_PING_INTERVAL', shown: '60s', help: 'Send an MCP ping to each session holding a stream open this often (0: never).', parse: duration(0, 86400) },
  { key: 'pingTimeoutSeconds', flag: 'ping-timeout', env: 'MCP_PING_TIMEOUT', shown: '10s', help: 'Close a session (reason ping_timeout) whose client does not answer its ping within this.', parse: duration(0.1, 3600) },
  { key: 'metricsBackend', flag: 'metrics-backend', env: 'MCP_METRICS_BACKEND', shown: 'prom-client', help: `Metrics library: ${METRICS_BACKENDS.join(', ')}.`, parse: oneOf(METRICS_BACKENDS) },
  { key: 'ipMasking', flag: 'ip-masking', env: 'MCP_IP_MASKING', shown: 'truncate', help: 'How client addresses are shown: none, truncate (/24, /48) or hash.', parse: oneOf(IP_MASKING_MODES) },
  { key: 'historyLimit', flag: 'history-limit', env: 'MCP_HISTORY_LIMIT', aliases: ['MCP_CONNECTION_HISTORY_LIMIT'], shown: '1000', help: 'Closed sessions kept for /api/mcp/connections/history.', parse: wholeNumber(0, 1_000_000) },
  { key: 'trustProxy', flag: 'trust-proxy', env: 'MCP_TRUST_PROXY', shown: '', help: 'Proxies (addresses, CIDRs) whose X-Forwarded-For is believed.', parse: cidrList },
  { key: 'allowedHosts', flag: 'allowed-hosts', env: 'MCP_ALLOWED_HOSTS', shown: '', help: 'Host headers accepted on /mcp (DNS-rebinding protection); unset: loopback names when bound to loopback, else any.', parse: hostList },
  { key: 'allowedOrigins', flag: 'allowed-origins', env: 'MCP_ALLOWED_ORIGINS', shown: '', help: 'Browser origins accepted on /mcp, with CORS (* for any); unset: loopback origins when bound to loopback.', parse: originList },
  { key: 'clientNames', flag: 'client-names', env: 'MCP_CLIENT_NAMES', shown: '', help: 'Clients that get a client_name label of their own; others are "other". Unset: the first 20 seen.', parse: clientNameList },
  { key: 'maxSessions', flag: 'max-sessions', env: 'MCP_MAX_SESSIONS', shown: '0', help: 'Sessions open at most; new ones get 503 past it (0: no limit).', parse: wholeNumber(0, 10_000_000) },
  { key: 'maxBodyBytes', flag: 'max-body-bytes', env: 'MCP_MAX_BODY_BYTES', shown: '4194304', help: 'Largest request body; larger ones get 413.', parse: wholeNumber(1024, 1024 * 1024 * 1024, ' bytes') },
  {
    key: 'eventStoreSize',
    flag: 'event-store-size',
    env: 'MCP_EVENT_STORE_SIZE',
    shown: '1000',
    help: 'SSE events kept in memory (all sessions) for clients that resume a dropped stream with Last-Event-ID; 0 keeps none.',
    parse: wholeNumber(0, 1_000_000),
  },
  {
    key: 'upstreamCheckIntervalSeconds',
    flag: 'upstream-check-interval',
    env: 'MCP_UPSTREAM_CHECK_INTERVAL',
    shown: '10s',
    help: 'Proxy: check the server behind when it has been silent this long, without opening a session (0: never).',
    parse: duration(0, 86400),
  },
  {
    key: 'readyWhenUpstreamDown',
    flag: 'ready-when-upstream-down',
    env: 'MCP_READY_WHEN_UPSTREAM_DOWN',
    shown: 'false',
    help: 'Proxy: answer /-/ready 200 even while the server behind does not answer (false: 503, so a load balancer sends clients elsewhere).',
    parse: yesNo,
  },
  { key: 'logLevel', flag: 'log-level', env: 'MCP_LOG_LEVEL', aliases: ['MCP_CONNECTION_LOG_LEVEL'], shown: 'info', help: `Log level: ${LOG_LEVELS.join(', ')}.`, parse: oneOf(LOG_LEVELS) },
] as const satisfies readonly Definition<keyof Settings>[];

export const DEFAULTS: Settings = {
  port: 3000,
  host: '127.0.0.1',
  adminPort: undefined,
  adminToken: undefined,
  sessionIdleTimeoutSeconds: 1800,
  heartbeatIntervalSeconds: 15,
  pingIntervalSeconds: 60,
  pingTimeoutSeconds: 10,
  metricsBackend: 'prom-client',
  ipMasking: 'truncate',
  historyLimit: 1000,
  logLevel: 'info',
  monitoring: true,
  trustProxy: [],
  allowedHosts: [],
  allowedOrigins: [],
  clientNames: [],
  maxSessions: 0,
  maxBodyBytes: 4 * 1024 * 1024,
  eventStoreSize: 1000,
  upstreamCheckIntervalSeconds: 10,
  readyWhenUpstreamDown: false,
};

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Resolves settings: a flag wins over its environment variable, which wins over the
 * default. `flags` holds the raw flag values by flag name. Throws SettingError.
 */
export function resolveSettings(flags: Readonly<Record<string, string | boolean | undefined>>, env: Env): Settings {
  const settings: Settings = { ...DEFAULTS };
  const assign = <K extends keyof Settings>(key: K, value: Settings[K]): void => {
    settings[key] = value;
  };
  // The admin token comes as a token or as a file holding it, by flag or variable: any flag wins
  // over either variable, and MCP_ADMIN_TOKEN over MCP_ADMIN_TOKEN_FILE (which is then not read).
  if (typeof flags['admin-token'] === 'string' && typeof flags['admin-token-file'] === 'string') {
    throw new SettingError('--admin-token and --admin-token-file: give one of them');
  }
  const tokenFlagGiven = typeof flags['admin-token'] === 'string' || typeof flags['admin-token-file'] === 'string';
  const tokenVariableOutranked = (def: Definition<keyof Settings>): boolean =>
    def.key === 'adminToken' && (tokenFlagGiven || (def.flag === 'admin-token-file' && Boolean(env.MCP_ADMIN_TOKEN)));
  for (const def of DEFINITIONS as readonly Definition<keyof Settings>[]) {
    const fromFlag = flags[def.flag];
    const name = [def.env, ...(def.aliases ?? [])].find((candidate) => env[candidate] !== undefined && env[candidate] !== '');
    if (typeof fromFlag === 'string') assign(def.key, def.parse(fromFlag, `--${def.flag}`));
    else if (name !== undefined && !tokenVariableOutranked(def)) assign(def.key, def.parse(env[name] ?? '', name));
  }
  const monitoringEnv = ['MCP_NO_MONITORING', 'MCP_CONNECTION_MONITORING_ENABLED'].find((name) => env[name] !== undefined && env[name] !== '');
  if (monitoringEnv !== undefined) {
    const on = oneOf(['true', 'false'] as const)(env[monitoringEnv] ?? '', monitoringEnv) === 'true';
    settings.monitoring = monitoringEnv === 'MCP_NO_MONITORING' ? !on : on;
  }
  if (flags['no-monitoring'] === true) settings.monitoring = false;
  if (settings.adminPort !== undefined && settings.adminPort !== 0 && settings.adminPort === settings.port) {
    throw new SettingError(`--admin-port: ${settings.adminPort} is the MCP port too; pick another port or leave it unset`);
  }
  return settings;
}
