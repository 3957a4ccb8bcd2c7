import { describe, expect, it } from 'vitest';
import { otlpVariables, parseResourceAttributes, readOtelEnvironment, shownEndpoint } from '../../src/cli/otel-env.js';
import { SettingError } from '../../src/cli/settings.js';

const read = (env: Record<string, string>) => {
  const { otlp, ...rest } = readOtelEnvironment(env, '9.9.9');
  return { ...rest, otlp: otlp && { ...otlp, url: otlp.url.href } };
};

describe('parseResourceAttributes', () => {
  it('takes comma-separated key=value pairs, trimmed and percent-decoded', () => {
    expect(parseResourceAttributes(' service.namespace = mcp ,deployment.environment.name=e2e%20test,team=a%3Db%2Cc,note=x=y,empty=,')).toEqual({
      'service.namespace': 'mcp',
      'deployment.environment.name': 'e2e test',
      team: 'a=b,c',
      note: 'x=y',
      empty: '',
    });
  });

  it.each([
    ['a=1,b', '"b" is not key=value'],
    ['a=%E0%A4%A', '"a=..." has a bad percent-encoding'],
    [' =1', 'an attribute has no key'],
  ])('rejects %j whole, naming the variable', (raw, message) => {
    expect(() => parseResourceAttributes(raw)).toThrow(SettingError);
    expect(() => parseResourceAttributes(raw)).toThrow(`OTEL_RESOURCE_ATTRIBUTES: ${message}`);
  });
});

describe('readOtelEnvironment', () => {
  it('with nothing set: /metrics only, no push, the default resource', () => {
    expect(read({})).toEqual({ disabled: false, warnings: [], resource: { 'service.name': 'mcp-exporter', 'service.version': '9.9.9' }, prometheus: true, otlp: undefined });
  });

  it('OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES, which wins over the defaults', () => {
    expect(read({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=a,service.version=2' }).resource).toEqual({ 'service.name': 'a', 'service.version': '2' });
    expect(read({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=a', OTEL_SERVICE_NAME: 'b' }).resource).toEqual({ 'service.name': 'b', 'service.version': '9.9.9' });
  });

  it('pushes http/protobuf (the default) to the generic endpoint plus /v1/metrics, every OTEL_METRIC_EXPORT_INTERVAL ms', () => {
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4318/base/' }).otlp).toEqual({ protocol: 'http/protobuf', url: 'https://collector:4318/base/v1/metrics', intervalMs: 60_000 });
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_METRIC_EXPORT_INTERVAL: '500' }).otlp).toEqual({
      protocol: 'http/protobuf',
      url: 'http://collector:4318/v1/metrics',
      intervalMs: 500,
    });
  });

  it('takes the signal-specific endpoint and protocol as they are, over the generic ones', () => {
    expect(
      read({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4318',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:9999/custom',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      }).otlp,
    ).toEqual({ protocol: 'http/json', url: 'http://metrics:9999/custom', intervalMs: 60_000 });
  });

  it('grpc takes the endpoint without a signal path', () => {
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).otlp?.url).toBe('http://collector:4317/');
  });

  it('OTEL_METRICS_EXPORTER: otlp pushes to the default endpoint of its protocol; prometheus alone pushes nothing; none, nothing at all', () => {
    expect(read({ OTEL_METRICS_EXPORTER: 'otlp' })).toMatchObject({ prometheus: false, otlp: { protocol: 'http/protobuf', url: 'http://localhost:4318/v1/metrics' } });
    expect(read({ OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).otlp?.url).toBe('http://localhost:4317/');
    expect(read({ OTEL_METRICS_EXPORTER: ' prometheus , otlp ' })).toMatchObject({ prometheus: true, otlp: { protocol: 'http/protobuf' } });
    expect(read({ OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toMatchObject({ prometheus: true, otlp: undefined });
    expect(read({ OTEL_METRICS_EXPORTER: 'none' })).toMatchObject({ prometheus: false, otlp: undefined });
  });

  it('OTEL_SDK_DISABLED=true (any case) turns everything off without reading the rest; another value warns and counts as false', () => {
    expect(read({ OTEL_SDK_DISABLED: 'True', OTEL_EXPORTER_OTLP_ENDPOINT: 'notaurl' })).toEqual({ disabled: true, warnings: [], resource: {}, prometheus: false, otlp: undefined });
    expect(read({ OTEL_SDK_DISABLED: 'false' })).toMatchObject({ disabled: false, warnings: [] });
    expect(read({ OTEL_SDK_DISABLED: '1' })).toMatchObject({ disabled: false, warnings: ['OTEL_SDK_DISABLED: "1" is neither true nor false; taken as false'], prometheus: true });
  });

  it('checks the generic protocol even when the signal-specific one is set, and an endpoint that would not be used', () => {
    expect(() => read({ OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_PROTOCOL: 'gprc' })).toThrow('OTEL_EXPORTER_OTLP_PROTOCOL: "gprc" is not one of http/protobuf, http/json, grpc');
    expect(() => read({ OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318' })).toThrow(
      'OTEL_EXPORTER_OTLP_ENDPOINT: "localhost:4318" is not an absolute http or https URL',
    );
  });
});

describe('what may be shown of OTLP settings', () => {
  it('an endpoint without user info or query', () => {
    expect(shownEndpoint(new URL('https://user:secret@collector:4318/v1/metrics?token=secret'))).toBe('https://collector:4318/v1/metrics');
    expect(shownEndpoint(new URL('http://collector:4317'))).toBe('http://collector:4317');
  });

  it('the names of the variables that ask for OTLP, never their values', () => {
    expect(otlpVariables({})).toEqual([]);
    expect(otlpVariables({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://x', OTEL_METRICS_EXPORTER: 'prometheus,otlp', OTEL_EXPORTER_OTLP_HEADERS: 'k=v' })).toEqual([
      'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
      'OTEL_METRICS_EXPORTER',
    ]);
    expect(otlpVariables({ OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toEqual([]);
  });
});
