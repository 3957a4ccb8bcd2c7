import { SettingError } from './settings.js';

/**
 * The OTEL_* environment of `serve --metrics-backend otel` and of traces, read as the OpenTelemetry SDK
 * environment specification says, checked before any SDK package is loaded. Values are
 * never logged or echoed when they may hold a credential (headers; URLs with user info).
 */

type Env = Readonly<Record<string, string | undefined>>;

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
/** OTEL_EXPORTER_OTLP_PROTOCOL values. */
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];
const METRICS_EXPORTERS = ['otlp', 'prometheus', 'none'] as const;

/** Where and how OTLP is pushed. */
export interface OtlpSettings {
  protocol: OtlpProtocol;
  /** The metrics endpoint: OTLP/HTTP's full URL, or OTLP/gRPC's server. */
  url: URL;
  intervalMs: number;
}

/** What the otel backend builds. */
export interface OtelEnvironment {
  /** OTEL_SDK_DISABLED=true: no OpenTelemetry SDK at all. */
  disabled: boolean;
  /** Lines to log at warn (never a value that may be a secret). */
  warnings: string[];
  /** The resource: service.name, service.version, and OTEL_RESOURCE_ATTRIBUTES. */
  resource: Record<string, string>;
  /** /metrics serves the OpenTelemetry metrics (OTEL_METRICS_EXPORTER has prometheus, or is unset). */
  prometheus: boolean;
  /** OTLP push, when OTEL_METRICS_EXPORTER has otlp or, unset, an endpoint is set. */
  otlp: OtlpSettings | undefined;
}

const set = (env: Env, name: string): string | undefined => {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
};

/** A boolean as the specification reads one: only a case-insensitive "true" is true. */
function specBoolean(env: Env, name: string, warnings: string[]): boolean {
  const raw = set(env, name);
  if (raw === undefined) return false;
  if (raw.toLowerCase() === 'true') return true;
  if (raw.toLowerCase() !== 'false') warnings.push(`${name}: "${raw}" is neither true nor false; taken as false`);
  return false;
}

/**
 * OTEL_RESOURCE_ATTRIBUTES: `key=value` pairs separated by commas, keys and values
 * percent-decoded (W3C Baggage without properties). A malformed value is rejected whole.
 */
export function parseResourceAttributes(raw: string, where = 'OTEL_RESOURCE_ATTRIBUTES'): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const member of raw.split(',')) {
    if (member.trim() === '') continue;
    const equals = member.indexOf('=');
    if (equals < 0) throw new SettingError(`${where}: "${member.trim()}" is not key=value; use e.g. deployment.environment.name=prod,service.namespace=mcp`);
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(member.slice(0, equals).trim());
      value = decodeURIComponent(member.slice(equals + 1).trim());
    } catch {
      throw new SettingError(`${where}: "${member.slice(0, equals).trim()}=..." has a bad percent-encoding (write % as %25)`);
    }
    if (key === '') throw new SettingError(`${where}: an attribute has no key; use key=value pairs separated by commas`);
    attributes[key] = value;
  }
  return attributes;
}

/** An OTLP endpoint: an absolute http or https URL. A value with user info is not echoed. */
function endpoint(env: Env, name: string): URL | undefined {
  const raw = set(env, name);
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    const shown = raw.includes('@') ? 'the value (not shown: it may hold a credential)' : `"${raw}"`;
    throw new SettingError(`${name}: ${shown} is not an absolute http or https URL; use e.g. http://localhost:4318`);
  }
  return url;
}

function protocol(env: Env, name: string): OtlpProtocol | undefined {
  const raw = set(env, name);
  if (raw === undefined) return undefined;
  const found = OTLP_PROTOCOLS.find((p) => p === raw);
  if (!found) throw new SettingError(`${name}: "${raw}" is not one of ${OTLP_PROTOCOLS.join(', ')}`);
  return found;
}

/** OTEL_METRICS_EXPORTER: a comma-separated list of otlp, prometheus, or none alone; undefined when unset. */
function metricsExporters(env: Env): Set<string> | undefined {
  const raw = set(env, 'OTEL_METRICS_EXPORTER');
  if (raw === undefined) return undefined;
  const names = new Set(raw.split(',').map((name) => name.trim()).filter((name) => name !== ''));
  for (const name of names) {
    if (!(METRICS_EXPORTERS as readonly string[]).includes(name)) throw new SettingError(`OTEL_METRICS_EXPORTER: "${name}" is not one of ${METRICS_EXPORTERS.join(', ')}`);
  }
  if (names.has('none') && names.size > 1) throw new SettingError('OTEL_METRICS_EXPORTER: none goes alone; list otlp and/or prometheus, or none');
  return names;
}

/** OTEL_METRIC_EXPORT_INTERVAL in milliseconds (default 60000). */
function exportInterval(env: Env): number {
  const raw = set(env, 'OTEL_METRIC_EXPORT_INTERVAL');
  if (raw === undefined) return 60_000;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 100) {
    throw new SettingError(`OTEL_METRIC_EXPORT_INTERVAL: "${raw}" is out of range; use a whole number of milliseconds >= 100`);
  }
  return value;
}

/**
 * Where a signal is pushed: its own endpoint as it is; else the generic one, with the
 * signal's path appended over HTTP (as OTLP/HTTP exporters do); else the default port.
 */
function signalUrl(own: URL | undefined, generic: URL | undefined, protocol: OtlpProtocol, path: '/v1/metrics' | '/v1/traces'): URL {
  if (own !== undefined) return own;
  const grpc = protocol === 'grpc';
  if (generic === undefined) return new URL(grpc ? 'http://localhost:4317' : `http://localhost:4318${path}`);
  if (grpc) return generic;
  const url = new URL(generic.href);
  url.pathname = `${url.pathname.replace(/\/$/, '')}${path}`;
  return url;
}

/** The variables that ask for OTLP metrics, by name: what the prom-client backend warns it ignores for metrics (the generic endpoint still carries spans). */
export function otlpVariables(env: Env): string[] {
  const names = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'].filter((name) => set(env, name) !== undefined);
  if (set(env, 'OTEL_METRICS_EXPORTER')?.split(',').some((name) => name.trim() === 'otlp')) names.push('OTEL_METRICS_EXPORTER');
  return names;
}

/** service.name, service.version, and OTEL_RESOURCE_ATTRIBUTES; OTEL_SERVICE_NAME wins over a service.name there, as the specification says. */
function resourceOf(env: Env, version: string): Record<string, string> {
  const resourceRaw = set(env, 'OTEL_RESOURCE_ATTRIBUTES');
  const serviceName = set(env, 'OTEL_SERVICE_NAME');
  return {
    'service.name': 'mcp-exporter',
    'service.version': version,
    ...(resourceRaw === undefined ? {} : parseResourceAttributes(resourceRaw)),
    ...(serviceName === undefined ? {} : { 'service.name': serviceName }),
  };
}

/** Where and how spans are pushed, and the resource they carry. */
export interface TracesEnvironment {
  warnings: string[];
  resource: Record<string, string>;
  /** OTLP push of spans: when OTEL_TRACES_EXPORTER is otlp or, unset, an endpoint is set. */
  otlp: { protocol: OtlpProtocol; url: URL } | undefined;
}

/**
 * The OTEL_* environment of traces (both metrics backends): OTEL_TRACES_EXPORTER (otlp or
 * none; unset: otlp when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is
 * set), the traces endpoint (or the generic one with /v1/traces), the protocol. Throws
 * SettingError (one line, naming the variable).
 */
export function readTracesEnvironment(env: Env, version: string): TracesEnvironment {
  const warnings: string[] = [];
  if (specBoolean(env, 'OTEL_SDK_DISABLED', warnings)) return { warnings, resource: {}, otlp: undefined };
  const exporter = set(env, 'OTEL_TRACES_EXPORTER');
  if (exporter !== undefined && exporter !== 'otlp' && exporter !== 'none') throw new SettingError(`OTEL_TRACES_EXPORTER: "${exporter}" is not one of otlp, none`);
  const tracesEndpoint = endpoint(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const genericEndpoint = endpoint(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const chosen = protocol(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? protocol(env, 'OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf';
  const wanted = exporter === undefined ? tracesEndpoint !== undefined || genericEndpoint !== undefined : exporter === 'otlp';
  if (!wanted) return { warnings, resource: resourceOf(env, version), otlp: undefined };
  return { warnings, resource: resourceOf(env, version), otlp: { protocol: chosen, url: signalUrl(tracesEndpoint, genericEndpoint, chosen, '/v1/traces') } };
}

/** Reads and checks the OTEL_* environment. Throws SettingError (one line, naming the variable). */
export function readOtelEnvironment(env: Env, version: string): OtelEnvironment {
  const warnings: string[] = [];
  if (specBoolean(env, 'OTEL_SDK_DISABLED', warnings)) {
    return { disabled: true, warnings, resource: {}, prometheus: false, otlp: undefined };
  }
  const resource = resourceOf(env, version);

  const metricsEndpoint = endpoint(env, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  const genericEndpoint = endpoint(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const chosen = protocol(env, 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL') ?? protocol(env, 'OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf';
  // Checked even when the signal-specific one is set: a typo should not wait for the day it is used.
  protocol(env, 'OTEL_EXPORTER_OTLP_PROTOCOL');

  const exporters = metricsExporters(env);
  const wantsOtlp = exporters ? exporters.has('otlp') : metricsEndpoint !== undefined || genericEndpoint !== undefined;
  const prometheus = exporters ? exporters.has('prometheus') : true;
  let otlp: OtlpSettings | undefined;
  if (wantsOtlp) {
    otlp = { protocol: chosen, url: signalUrl(metricsEndpoint, genericEndpoint, chosen, '/v1/metrics'), intervalMs: exportInterval(env) };
  }
  return { disabled: false, warnings, resource, prometheus, otlp };
}

/** An endpoint as a log line may show it: no user info, no query (either may hold a credential). */
export function shownEndpoint(url: URL): string {
  return `${url.origin}${url.pathname === '/' ? '' : url.pathname}`;
}
