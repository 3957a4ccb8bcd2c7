import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULTS, DEFINITIONS, resolveSettings, SettingError, type Settings } from '../../src/cli/settings.js';

type Flags = Parameters<typeof resolveSettings>[0];
type Env = Parameters<typeof resolveSettings>[1];

/** The error resolveSettings throws, or a failed expectation if it throws none. */
function settingError(flags: Flags, env: Env = {}): SettingError {
  try {
    resolveSettings(flags, env);
  } catch (error) {
    if (error instanceof SettingError) return error;
    throw error;
  }
  throw new Error('resolveSettings did not throw');
}

const EXPECTED_DEFAULTS: Settings = {
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
  maxBodyBytes: 4194304,
  eventStoreSize: 1000,
  upstreamCheckIntervalSeconds: 10,
  readyWhenUpstreamDown: false,
};

describe('resolveSettings defaults', () => {
  it('gives the documented defaults with no flags and no environment', () => {
    expect(resolveSettings({}, {})).toEqual(EXPECTED_DEFAULTS);
    expect(DEFAULTS).toEqual(EXPECTED_DEFAULTS);
  });

  it('treats an empty environment variable as unset', () => {
    expect(
      resolveSettings(
        {},
        {
          MCP_PORT: '',
          MCP_HOST: '',
          MCP_ADMIN_PORT: '',
          MCP_ADMIN_TOKEN: '',
          MCP_ADMIN_TOKEN_FILE: '',
          MCP_SESSION_IDLE_TIMEOUT: '',
          MCP_IP_MASKING: '',
          MCP_CONNECTION_HISTORY_LIMIT: '',
          MCP_CONNECTION_LOG_LEVEL: '',
          MCP_CONNECTION_MONITORING_ENABLED: '',
        },
      ),
    ).toEqual(EXPECTED_DEFAULTS);
  });

  it('ignores unrelated environment variables and flags set to undefined', () => {
    expect(resolveSettings({ port: undefined, 'no-monitoring': undefined }, { PORT: '1', HOST: 'x' })).toEqual(EXPECTED_DEFAULTS);
  });
});

describe('resolveSettings precedence', () => {
  it('takes every setting from the environment', () => {
    expect(
      resolveSettings(
        {},
        {
          MCP_PORT: '8080',
          MCP_HOST: '0.0.0.0',
          MCP_ADMIN_PORT: '9090',
          MCP_ADMIN_TOKEN: 'env-token',
          MCP_SESSION_IDLE_TIMEOUT: '60',
          MCP_HEARTBEAT_INTERVAL: '5',
          MCP_PING_INTERVAL: '30',
          MCP_PING_TIMEOUT: '3',
          MCP_METRICS_BACKEND: 'prom-client',
          MCP_IP_MASKING: 'hash',
          MCP_CONNECTION_HISTORY_LIMIT: '5',
          MCP_CONNECTION_LOG_LEVEL: 'debug',
          MCP_CONNECTION_MONITORING_ENABLED: 'true',
          MCP_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1',
          MCP_ALLOWED_HOSTS: 'localhost,mcp.example.com:443',
          MCP_ALLOWED_ORIGINS: 'https://app.example.com',
          MCP_CLIENT_NAMES: 'claude-code, cursor',
          MCP_MAX_SESSIONS: '500',
          MCP_MAX_BODY_BYTES: '65536',
          MCP_EVENT_STORE_SIZE: '50',
          MCP_UPSTREAM_CHECK_INTERVAL: '1m',
          MCP_READY_WHEN_UPSTREAM_DOWN: 'true',
        },
      ),
    ).toEqual({
      port: 8080,
      host: '0.0.0.0',
      adminPort: 9090,
      adminToken: 'env-token',
      sessionIdleTimeoutSeconds: 60,
      heartbeatIntervalSeconds: 5,
      pingIntervalSeconds: 30,
      pingTimeoutSeconds: 3,
      metricsBackend: 'prom-client',
      ipMasking: 'hash',
      historyLimit: 5,
      logLevel: 'debug',
      monitoring: true,
      trustProxy: ['10.0.0.0/8', '127.0.0.1'],
      allowedHosts: ['localhost', 'mcp.example.com:443'],
      allowedOrigins: ['https://app.example.com'],
      clientNames: ['claude-code', 'cursor'],
      maxSessions: 500,
      maxBodyBytes: 65536,
      eventStoreSize: 50,
      upstreamCheckIntervalSeconds: 60,
      readyWhenUpstreamDown: true,
    });
  });

  it('takes every setting from flags', () => {
    expect(
      resolveSettings(
        {
          port: '8081',
          host: '::',
          'admin-port': '9091',
          'admin-token': 'flag-token',
          'session-idle-timeout': '0',
          'heartbeat-interval': '0',
          'ping-interval': '0',
          'ping-timeout': '1',
          'metrics-backend': 'prom-client',
          'ip-masking': 'none',
          'history-limit': '0',
          'log-level': 'silent',
          'no-monitoring': true,
          'trust-proxy': '::1,fd00::/8',
          'allowed-hosts': '[::1]:3000',
          'allowed-origins': 'http://localhost:3000,https://a.example,*',
          'client-names': 'Visual Studio Code',
          'max-sessions': '1',
          'max-body-bytes': '1024',
          'event-store-size': '0',
          'upstream-check-interval': '0',
          'ready-when-upstream-down': 'false',
        },
        {},
      ),
    ).toEqual({
      port: 8081,
      host: '::',
      adminPort: 9091,
      adminToken: 'flag-token',
      sessionIdleTimeoutSeconds: 0,
      heartbeatIntervalSeconds: 0,
      pingIntervalSeconds: 0,
      pingTimeoutSeconds: 1,
      metricsBackend: 'prom-client',
      ipMasking: 'none',
      historyLimit: 0,
      logLevel: 'silent',
      monitoring: false,
      trustProxy: ['::1', 'fd00::/8'],
      allowedHosts: ['[::1]:3000'],
      allowedOrigins: ['http://localhost:3000', 'https://a.example', '*'],
      clientNames: ['Visual Studio Code'],
      maxSessions: 1,
      maxBodyBytes: 1024,
      eventStoreSize: 0,
      upstreamCheckIntervalSeconds: 0,
      readyWhenUpstreamDown: false,
    });
  });

  it('a flag beats its environment variable, which beats the default', () => {
    const env: Env = { MCP_PORT: '8080', MCP_IP_MASKING: 'hash', MCP_CONNECTION_LOG_LEVEL: 'warn' };
    const settings = resolveSettings({ port: '8081', 'ip-masking': 'none' }, env);
    expect(settings.port).toBe(8081);
    expect(settings.ipMasking).toBe('none');
    expect(settings.logLevel).toBe('warn');
    expect(settings.host).toBe('127.0.0.1');
  });

  it('a good flag wins even when the environment variable is bad', () => {
    expect(resolveSettings({ port: '4000' }, { MCP_PORT: 'nope' }).port).toBe(4000);
  });

  it('accepts localhost and IPv6 hosts', () => {
    expect(resolveSettings({ host: 'localhost' }, {}).host).toBe('localhost');
    expect(resolveSettings({ host: '::1' }, {}).host).toBe('::1');
  });

  it('accepts the edges of each range', () => {
    expect(resolveSettings({ port: '0' }, {}).port).toBe(0);
    expect(resolveSettings({ port: '65535' }, {}).port).toBe(65535);
    expect(resolveSettings({ 'session-idle-timeout': '604800' }, {}).sessionIdleTimeoutSeconds).toBe(604800);
    expect(resolveSettings({ 'history-limit': '1000000' }, {}).historyLimit).toBe(1_000_000);
  });
});

describe('resolveSettings bad values', () => {
  it.each<[string, Flags, Env, string]>([
    ['--port not a number', { port: 'abc' }, {}, '--port: "abc" is not a port; use a whole number from 0 to 65535'],
    ['--port too big', { port: '65536' }, {}, '--port: "65536" is not a port; use a whole number from 0 to 65535'],
    ['--port negative', { port: '-1' }, {}, '--port: "-1" is not a port; use a whole number from 0 to 65535'],
    ['--port fractional', { port: '80.5' }, {}, '--port: "80.5" is not a port; use a whole number from 0 to 65535'],
    ['--port empty', { port: '' }, {}, '--port: "" is not a port; use a whole number from 0 to 65535'],
    ['MCP_PORT', {}, { MCP_PORT: '70000' }, 'MCP_PORT: "70000" is not a port; use a whole number from 0 to 65535'],
    ['--host', { host: 'example.com' }, {}, '--host: "example.com" is not an IP address; use e.g. 127.0.0.1, 0.0.0.0 or ::'],
    ['MCP_HOST', {}, { MCP_HOST: '999.0.0.1' }, 'MCP_HOST: "999.0.0.1" is not an IP address; use e.g. 127.0.0.1, 0.0.0.0 or ::'],
    ['--admin-port', { 'admin-port': 'x' }, {}, '--admin-port: "x" is not a port; use a whole number from 0 to 65535'],
    ['MCP_ADMIN_PORT', {}, { MCP_ADMIN_PORT: '1e3' }, 'MCP_ADMIN_PORT: "1e3" is not a port; use a whole number from 0 to 65535'],
    ['--admin-token with a space', { 'admin-token': 'a b' }, {}, '--admin-token: the token must be non-empty and contain no white space'],
    ['--admin-token blank', { 'admin-token': '   ' }, {}, '--admin-token: the token must be non-empty and contain no white space'],
    ['MCP_ADMIN_TOKEN', {}, { MCP_ADMIN_TOKEN: 'tab\there' }, 'MCP_ADMIN_TOKEN: the token must be non-empty and contain no white space'],
    [
      '--session-idle-timeout',
      { 'session-idle-timeout': '-5' },
      {},
      '--session-idle-timeout: "-5" is not a duration; use e.g. 30s, 5m, 1h, or a number of seconds',
    ],
    [
      'MCP_SESSION_IDLE_TIMEOUT',
      {},
      { MCP_SESSION_IDLE_TIMEOUT: '604801' },
      'MCP_SESSION_IDLE_TIMEOUT: "604801" is out of range; use 0s to 604800s (e.g. 30s, 5m, 1h)',
    ],
    ['--metrics-backend', { 'metrics-backend': 'statsd' }, {}, '--metrics-backend: "statsd" is not one of prom-client, otel'],
    ['MCP_METRICS_BACKEND', {}, { MCP_METRICS_BACKEND: 'statsd' }, 'MCP_METRICS_BACKEND: "statsd" is not one of prom-client, otel'],
    ['--ip-masking', { 'ip-masking': 'mask' }, {}, '--ip-masking: "mask" is not one of none, truncate, hash'],
    ['MCP_IP_MASKING', {}, { MCP_IP_MASKING: 'TRUNCATE' }, 'MCP_IP_MASKING: "TRUNCATE" is not one of none, truncate, hash'],
    ['--history-limit', { 'history-limit': '1000001' }, {}, '--history-limit: "1000001" is out of range; use a whole number from 0 to 1000000'],
    [
      'MCP_CONNECTION_HISTORY_LIMIT',
      {},
      { MCP_CONNECTION_HISTORY_LIMIT: 'lots' },
      'MCP_CONNECTION_HISTORY_LIMIT: "lots" is out of range; use a whole number from 0 to 1000000',
    ],
    ['--log-level', { 'log-level': 'verbose' }, {}, '--log-level: "verbose" is not one of trace, debug, info, warn, error, fatal, silent'],
    ['--client-names too long', { 'client-names': `ok,${'n'.repeat(129)}` }, {}, `--client-names: "${'n'.repeat(40)}..." is longer than 128 characters`],
    ['MCP_CLIENT_NAMES too many', {}, { MCP_CLIENT_NAMES: Array.from({ length: 201 }, (_, i) => `c${i}`).join(',') }, 'MCP_CLIENT_NAMES: 201 names; at most 200'],
    ['--allowed-origins', { 'allowed-origins': 'app.example.com' }, {}, '--allowed-origins: "app.example.com" is not an origin; use e.g. https://app.example.com, or * for any'],
    [
      'MCP_CONNECTION_LOG_LEVEL',
      {},
      { MCP_CONNECTION_LOG_LEVEL: 'INFO' },
      'MCP_CONNECTION_LOG_LEVEL: "INFO" is not one of trace, debug, info, warn, error, fatal, silent',
    ],
    [
      'MCP_CONNECTION_MONITORING_ENABLED',
      {},
      { MCP_CONNECTION_MONITORING_ENABLED: 'no' },
      'MCP_CONNECTION_MONITORING_ENABLED: "no" is not one of true, false',
    ],
    ['--upstream-check-interval', { 'upstream-check-interval': '2d' }, {}, '--upstream-check-interval: "2d" is not a duration; use e.g. 30s, 5m, 1h, or a number of seconds'],
    ['MCP_UPSTREAM_CHECK_INTERVAL', {}, { MCP_UPSTREAM_CHECK_INTERVAL: '100000' }, 'MCP_UPSTREAM_CHECK_INTERVAL: "100000" is out of range; use 0s to 86400s (e.g. 30s, 5m, 1h)'],
    ['--ready-when-upstream-down', { 'ready-when-upstream-down': 'yes' }, {}, '--ready-when-upstream-down: "yes" is not one of true, false'],
    ['--admin-port equal to --port', { port: '4000', 'admin-port': '4000' }, {}, '--admin-port: 4000 is the MCP port too; pick another port or leave it unset'],
    ['--admin-port equal to the default port', { 'admin-port': '3000' }, {}, '--admin-port: 3000 is the MCP port too; pick another port or leave it unset'],
  ])('%s', (_name, flags, env, message) => {
    const error = settingError(flags, env);
    expect(error).toBeInstanceOf(SettingError);
    expect(error.name).toBe('SettingError');
    expect(error.message).toBe(message);
  });

  it('allows admin-port 0 (a random port) beside port 0', () => {
    const settings = resolveSettings({ port: '0', 'admin-port': '0' }, {});
    expect(settings.port).toBe(0);
    expect(settings.adminPort).toBe(0);
  });
});

describe('resolveSettings monitoring switch', () => {
  it('--no-monitoring turns monitoring off', () => {
    expect(resolveSettings({ 'no-monitoring': true }, {}).monitoring).toBe(false);
  });

  it('MCP_CONNECTION_MONITORING_ENABLED=false turns monitoring off, true keeps it on', () => {
    expect(resolveSettings({}, { MCP_CONNECTION_MONITORING_ENABLED: 'false' }).monitoring).toBe(false);
    expect(resolveSettings({}, { MCP_CONNECTION_MONITORING_ENABLED: 'true' }).monitoring).toBe(true);
  });

  it('--no-monitoring wins over MCP_CONNECTION_MONITORING_ENABLED=true', () => {
    expect(resolveSettings({ 'no-monitoring': true }, { MCP_CONNECTION_MONITORING_ENABLED: 'true' }).monitoring).toBe(false);
  });

  it('a no-monitoring flag that is false or a string changes nothing', () => {
    expect(resolveSettings({ 'no-monitoring': false }, {}).monitoring).toBe(true);
    expect(resolveSettings({ 'no-monitoring': 'yes' }, {}).monitoring).toBe(true);
  });
});

describe('resolveSettings durations and mirrored environment names', () => {
  it('takes durations with a unit, as Prometheus writes them, or bare seconds', () => {
    const idle = (raw: string): number => resolveSettings({ 'session-idle-timeout': raw }, {}).sessionIdleTimeoutSeconds;
    expect([idle('30s'), idle('5m'), idle('1h'), idle('1.5m'), idle('500ms'), idle('90'), idle('0')]).toEqual([30, 300, 3600, 90, 0.5, 90, 0]);
    expect(resolveSettings({}, { MCP_PING_INTERVAL: '2m', MCP_PING_TIMEOUT: '1500ms' })).toMatchObject({ pingIntervalSeconds: 120, pingTimeoutSeconds: 1.5 });
    expect(settingError({ 'session-idle-timeout': '30x' }).message).toBe('--session-idle-timeout: "30x" is not a duration; use e.g. 30s, 5m, 1h, or a number of seconds');
    expect(settingError({ 'ping-timeout': '50ms' }).message).toBe('--ping-timeout: "50ms" is out of range; use 0.1s to 3600s (e.g. 30s, 5m, 1h)');
    expect(settingError({ 'session-idle-timeout': '8d' }).message).toBe('--session-idle-timeout: "8d" is not a duration; use e.g. 30s, 5m, 1h, or a number of seconds');
  });

  it('reads MCP_<FLAG> for every flag, and still the older names when it is unset', () => {
    expect(resolveSettings({}, { MCP_HISTORY_LIMIT: '7', MCP_LOG_LEVEL: 'warn', MCP_NO_MONITORING: 'true' })).toMatchObject({ historyLimit: 7, logLevel: 'warn', monitoring: false });
    expect(resolveSettings({}, { MCP_CONNECTION_HISTORY_LIMIT: '8', MCP_CONNECTION_LOG_LEVEL: 'error' })).toMatchObject({ historyLimit: 8, logLevel: 'error' });
    // The mirrored name wins over the older one.
    expect(resolveSettings({}, { MCP_HISTORY_LIMIT: '7', MCP_CONNECTION_HISTORY_LIMIT: '8' }).historyLimit).toBe(7);
    expect(resolveSettings({}, { MCP_NO_MONITORING: 'false', MCP_CONNECTION_MONITORING_ENABLED: 'false' }).monitoring).toBe(true);
    expect(settingError({}, { MCP_LOG_LEVEL: 'loud' }).message).toBe('MCP_LOG_LEVEL: "loud" is not one of trace, debug, info, warn, error, fatal, silent');
    for (const def of DEFINITIONS) expect(def.env, def.flag).toBe(`MCP_${def.flag.toUpperCase().replaceAll('-', '_')}`);
  });
});

describe('resolveSettings MCP_ADMIN_TOKEN_FILE', () => {
  let dir = '';

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-exporter-settings-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the token from the file, trimmed', () => {
    const file = join(dir, 'token');
    writeFileSync(file, '  s3cret-token\n\n');
    expect(resolveSettings({}, { MCP_ADMIN_TOKEN_FILE: file }).adminToken).toBe('s3cret-token');
  });

  it('--admin-token and MCP_ADMIN_TOKEN win over the file (which is then not read)', () => {
    const missing = join(dir, 'missing');
    expect(resolveSettings({ 'admin-token': 'from-flag' }, { MCP_ADMIN_TOKEN_FILE: missing }).adminToken).toBe('from-flag');
    expect(resolveSettings({}, { MCP_ADMIN_TOKEN: 'from-env', MCP_ADMIN_TOKEN_FILE: missing }).adminToken).toBe('from-env');
  });

  it('--admin-token-file reads the file and wins over both variables; with --admin-token it is refused', () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'fr0m-file\n');
    expect(resolveSettings({ 'admin-token-file': file }, {}).adminToken).toBe('fr0m-file');
    expect(resolveSettings({ 'admin-token-file': file }, { MCP_ADMIN_TOKEN: 'from-env', MCP_ADMIN_TOKEN_FILE: join(dir, 'missing') }).adminToken).toBe('fr0m-file');
    expect(settingError({ 'admin-token-file': join(dir, 'missing') }).message).toBe('--admin-token-file: cannot read the file (ENOENT)');
    expect(settingError({ 'admin-token-file': file, 'admin-token': 'x' }).message).toBe('--admin-token and --admin-token-file: give one of them');
  });

  it('fails with a clear line when the file does not exist', () => {
    const error = settingError({}, { MCP_ADMIN_TOKEN_FILE: join(dir, 'missing') });
    expect(error.message).toBe('MCP_ADMIN_TOKEN_FILE: cannot read the file (ENOENT)');
  });

  it('fails with a clear line when the path is a directory', () => {
    const error = settingError({}, { MCP_ADMIN_TOKEN_FILE: dir });
    expect(error.message).toBe('MCP_ADMIN_TOKEN_FILE: cannot read the file (EISDIR)');
  });

  it('rejects an empty file or a token with inner white space', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(settingError({}, { MCP_ADMIN_TOKEN_FILE: empty }).message).toBe(
      'MCP_ADMIN_TOKEN_FILE: the token must be non-empty and contain no white space',
    );
    const spaced = join(dir, 'spaced');
    writeFileSync(spaced, 'two words\n');
    expect(settingError({}, { MCP_ADMIN_TOKEN_FILE: spaced }).message).toBe(
      'MCP_ADMIN_TOKEN_FILE: the token must be non-empty and contain no white space',
    );
  });
});
