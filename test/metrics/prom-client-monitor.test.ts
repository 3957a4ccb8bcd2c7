import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SessionTracker, type SessionStart } from '../../src/core/session-tracker.js';
import type { TransportKind } from '../../src/core/types.js';
import { PromClientMonitor } from '../../src/metrics/prom-client-monitor.js';

const T0 = Date.parse('2025-01-02T03:04:05.000Z');

interface Rig {
  registry: Registry;
  tracker: SessionTracker;
  advance: (ms: number) => void;
  scrape: () => Promise<string>;
}

/** A fresh registry, a monitor on it, and a tracker with a hand-moved clock. */
function rig(): Rig {
  let t = T0;
  const registry = new Registry();
  const tracker = new SessionTracker({ now: () => t });
  tracker.subscribe(new PromClientMonitor(registry));
  return {
    registry,
    tracker,
    advance: (ms) => {
      t += ms;
    },
    scrape: () => registry.metrics(),
  };
}

function start(id: string, clientName = 'a', transport: TransportKind = 'streamable_http'): SessionStart {
  return {
    id,
    clientIP: '203.0.113.0',
    userAgent: 'ua',
    transport,
    clientName,
    clientVersion: '1.0.0',
    protocolVersion: '2025-06-18',
  };
}

/** The sample lines of one metric (a name, or name_bucket etc.), in order. */
function samples(exposition: string, name: string): string[] {
  return exposition.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

/** The distinct values of one label across a metric's samples. */
function labelValues(exposition: string, name: string, label: string): Set<string> {
  const values = new Set<string>();
  const pattern = new RegExp(`[{,]${label}="([^"]*)"`);
  for (const line of samples(exposition, name)) {
    const match = pattern.exec(line);
    if (match?.[1] !== undefined) values.add(match[1]);
  }
  return values;
}

const ZERO_CLOSED = [
  'mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 0',
  'mcp_server_sessions_closed_total{transport="streamable_http",reason="idle_timeout"} 0',
  'mcp_server_sessions_closed_total{transport="streamable_http",reason="ping_timeout"} 0',
  'mcp_server_sessions_closed_total{transport="streamable_http",reason="server_shutdown"} 0',
  'mcp_server_sessions_closed_total{transport="streamable_http",reason="transport_error"} 0',
  'mcp_server_sessions_closed_total{transport="sse",reason="client_delete"} 0',
  'mcp_server_sessions_closed_total{transport="sse",reason="idle_timeout"} 0',
  'mcp_server_sessions_closed_total{transport="sse",reason="ping_timeout"} 0',
  'mcp_server_sessions_closed_total{transport="sse",reason="server_shutdown"} 0',
  'mcp_server_sessions_closed_total{transport="sse",reason="transport_error"} 0',
];

const ZERO_REJECTED = [
  'mcp_server_requests_rejected_total{reason="unknown_session"} 0',
  'mcp_server_requests_rejected_total{reason="missing_session"} 0',
  'mcp_server_requests_rejected_total{reason="parse_error"} 0',
  'mcp_server_requests_rejected_total{reason="invalid_request"} 0',
  'mcp_server_requests_rejected_total{reason="payload_too_large"} 0',
  'mcp_server_requests_rejected_total{reason="unauthorized"} 0',
  'mcp_server_requests_rejected_total{reason="forbidden_host"} 0',
  'mcp_server_requests_rejected_total{reason="too_many_sessions"} 0',
  'mcp_server_requests_rejected_total{reason="method_not_allowed"} 0',
  'mcp_server_requests_rejected_total{reason="not_acceptable"} 0',
  'mcp_server_requests_rejected_total{reason="unsupported_protocol_version"} 0',
  'mcp_server_requests_rejected_total{reason="header_mismatch"} 0',
  'mcp_server_requests_rejected_total{reason="missing_capability"} 0',
];

describe('PromClientMonitor', () => {
  it('exposes every family from the first scrape, with zero series for closed and rejected', async () => {
    const { scrape } = rig();
    expect(await scrape()).toBe(
      [
        '# HELP mcp_server_sessions_active MCP sessions open now.',
        '# TYPE mcp_server_sessions_active gauge',
        '',
        '# HELP mcp_server_sessions_total MCP sessions established since start.',
        '# TYPE mcp_server_sessions_total counter',
        '',
        '# HELP mcp_server_sessions_closed_total MCP sessions closed, by reason.',
        '# TYPE mcp_server_sessions_closed_total counter',
        ...ZERO_CLOSED,
        '',
        '# HELP mcp_server_session_duration_seconds Lifetime of closed MCP sessions (mcp.server.session.duration).',
        '# TYPE mcp_server_session_duration_seconds histogram',
        '',
        '# HELP mcp_server_subscriptions_active subscriptions/listen streams open now (2026-07-28 era).',
        '# TYPE mcp_server_subscriptions_active gauge',
        '',
        '# HELP mcp_server_subscriptions_total subscriptions/listen streams opened since start.',
        '# TYPE mcp_server_subscriptions_total counter',
        '',
        '# HELP mcp_server_subscription_duration_seconds Lifetime of closed subscriptions/listen streams.',
        '# TYPE mcp_server_subscription_duration_seconds histogram',
        '',
        '# HELP mcp_server_requests_rejected_total Requests refused before they reached a server, by reason.',
        '# TYPE mcp_server_requests_rejected_total counter',
        ...ZERO_REJECTED,
        '',
        '# HELP mcp_server_operation_duration_seconds Time from a JSON-RPC request arriving to its response (mcp.server.operation.duration).',
        '# TYPE mcp_server_operation_duration_seconds histogram',
        '',
        '# HELP mcp_server_client_requests_total JSON-RPC requests, by client and protocol version.',
        '# TYPE mcp_server_client_requests_total counter',
        '',
      ].join('\n'),
    );
  });

  it('counts an established session in the active gauge and the total counter', async () => {
    const { tracker, scrape } = rig();
    tracker.establish(start('s1', 'a'));
    const text = await scrape();
    expect(samples(text, 'mcp_server_sessions_active')).toEqual(['mcp_server_sessions_active{transport="streamable_http",client_name="a"} 1']);
    expect(samples(text, 'mcp_server_sessions_total')).toEqual(['mcp_server_sessions_total{transport="streamable_http",client_name="a"} 1']);
    expect(samples(text, 'mcp_server_sessions_closed_total')).toEqual(ZERO_CLOSED);
    expect(samples(text, 'mcp_server_session_duration_seconds_count')).toEqual([]);
  });

  it('labels by transport and client name', async () => {
    const { tracker, scrape } = rig();
    tracker.establish(start('s1', 'a'));
    tracker.establish(start('s2', 'a'));
    tracker.establish(start('s3', 'b', 'sse'));
    tracker.establish(start('s4', 'a', 'sse'));
    const text = await scrape();
    expect(samples(text, 'mcp_server_sessions_active')).toEqual([
      'mcp_server_sessions_active{transport="streamable_http",client_name="a"} 2',
      'mcp_server_sessions_active{transport="sse",client_name="b"} 1',
      'mcp_server_sessions_active{transport="sse",client_name="a"} 1',
    ]);
    expect(samples(text, 'mcp_server_sessions_total')).toEqual([
      'mcp_server_sessions_total{transport="streamable_http",client_name="a"} 2',
      'mcp_server_sessions_total{transport="sse",client_name="b"} 1',
      'mcp_server_sessions_total{transport="sse",client_name="a"} 1',
    ]);
  });

  it('records a closed 2.5 s session in the gauge, closed counter and duration histogram', async () => {
    const { tracker, advance, scrape } = rig();
    tracker.establish(start('s1', 'a'));
    advance(2500);
    tracker.close('s1', 'client_delete');
    const text = await scrape();
    expect(samples(text, 'mcp_server_sessions_active')).toEqual(['mcp_server_sessions_active{transport="streamable_http",client_name="a"} 0']);
    expect(samples(text, 'mcp_server_sessions_total')).toEqual(['mcp_server_sessions_total{transport="streamable_http",client_name="a"} 1']);
    expect(samples(text, 'mcp_server_sessions_closed_total')).toEqual([
      'mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 1',
      ...ZERO_CLOSED.slice(1),
    ]);
    const labels = 'transport="streamable_http",reason="client_delete"';
    expect(samples(text, 'mcp_server_session_duration_seconds_bucket')).toEqual([
      `mcp_server_session_duration_seconds_bucket{le="1",${labels}} 0`,
      `mcp_server_session_duration_seconds_bucket{le="5",${labels}} 1`,
      `mcp_server_session_duration_seconds_bucket{le="15",${labels}} 1`,
      `mcp_server_session_duration_seconds_bucket{le="30",${labels}} 1`,
      `mcp_server_session_duration_seconds_bucket{le="60",${labels}} 1`,
      `mcp_server_session_duration_seconds_bucket{le="300",${labels}} 1`,
      `mcp_server_session_duration_seconds_bucket{le="900",${labels}} 1`,
      `mcp_server_session_duration_seconds_bucket{le="1800",${labels}} 1`,
      `mcp_server_session_duration_seconds_bucket{le="3600",${labels}} 1`,
      `mcp_server_session_duration_seconds_bucket{le="7200",${labels}} 1`,
      `mcp_server_session_duration_seconds_bucket{le="14400",${labels}} 1`,
      `mcp_server_session_duration_seconds_bucket{le="43200",${labels}} 1`,
      `mcp_server_session_duration_seconds_bucket{le="86400",${labels}} 1`,
      `mcp_server_session_duration_seconds_bucket{le="+Inf",${labels}} 1`,
    ]);
    expect(samples(text, 'mcp_server_session_duration_seconds_sum')).toEqual([`mcp_server_session_duration_seconds_sum{${labels}} 2.5`]);
    expect(samples(text, 'mcp_server_session_duration_seconds_count')).toEqual([`mcp_server_session_duration_seconds_count{${labels}} 1`]);
  });

  it('labels closes by transport and reason; a second close counts nothing', async () => {
    const { tracker, advance, scrape } = rig();
    tracker.establish(start('s1', 'a', 'sse'));
    tracker.establish(start('s2', 'a'));
    advance(90_000);
    tracker.close('s1', 'idle_timeout');
    tracker.close('s1', 'idle_timeout');
    tracker.close('s2', 'server_shutdown');
    const text = await scrape();
    expect(samples(text, 'mcp_server_sessions_closed_total')).toEqual([
      'mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 0',
      'mcp_server_sessions_closed_total{transport="streamable_http",reason="idle_timeout"} 0',
      'mcp_server_sessions_closed_total{transport="streamable_http",reason="ping_timeout"} 0',
      'mcp_server_sessions_closed_total{transport="streamable_http",reason="server_shutdown"} 1',
      'mcp_server_sessions_closed_total{transport="streamable_http",reason="transport_error"} 0',
      'mcp_server_sessions_closed_total{transport="sse",reason="client_delete"} 0',
      'mcp_server_sessions_closed_total{transport="sse",reason="idle_timeout"} 1',
      'mcp_server_sessions_closed_total{transport="sse",reason="ping_timeout"} 0',
      'mcp_server_sessions_closed_total{transport="sse",reason="server_shutdown"} 0',
      'mcp_server_sessions_closed_total{transport="sse",reason="transport_error"} 0',
    ]);
    expect(samples(text, 'mcp_server_session_duration_seconds_count')).toEqual([
      'mcp_server_session_duration_seconds_count{transport="sse",reason="idle_timeout"} 1',
      'mcp_server_session_duration_seconds_count{transport="streamable_http",reason="server_shutdown"} 1',
    ]);
    expect(samples(text, 'mcp_server_session_duration_seconds_sum')).toEqual([
      'mcp_server_session_duration_seconds_sum{transport="sse",reason="idle_timeout"} 90',
      'mcp_server_session_duration_seconds_sum{transport="streamable_http",reason="server_shutdown"} 90',
    ]);
    expect(samples(text, 'mcp_server_sessions_active')).toEqual([
      'mcp_server_sessions_active{transport="sse",client_name="a"} 0',
      'mcp_server_sessions_active{transport="streamable_http",client_name="a"} 0',
    ]);
  });

  it('counts rejected requests by reason', async () => {
    const { tracker, scrape } = rig();
    tracker.reject('unauthorized');
    tracker.reject('unauthorized');
    tracker.reject('payload_too_large');
    expect(samples(await scrape(), 'mcp_server_requests_rejected_total')).toEqual([
      'mcp_server_requests_rejected_total{reason="unknown_session"} 0',
      'mcp_server_requests_rejected_total{reason="missing_session"} 0',
      'mcp_server_requests_rejected_total{reason="parse_error"} 0',
      'mcp_server_requests_rejected_total{reason="invalid_request"} 0',
      'mcp_server_requests_rejected_total{reason="payload_too_large"} 1',
      'mcp_server_requests_rejected_total{reason="unauthorized"} 2',
      'mcp_server_requests_rejected_total{reason="forbidden_host"} 0',
      'mcp_server_requests_rejected_total{reason="too_many_sessions"} 0',
      'mcp_server_requests_rejected_total{reason="method_not_allowed"} 0',
      'mcp_server_requests_rejected_total{reason="not_acceptable"} 0',
      'mcp_server_requests_rejected_total{reason="unsupported_protocol_version"} 0',
      'mcp_server_requests_rejected_total{reason="header_mismatch"} 0',
      'mcp_server_requests_rejected_total{reason="missing_capability"} 0',
    ]);
  });

  it('shows an empty client name as client_name="unknown"', async () => {
    const { tracker, scrape } = rig();
    tracker.establish(start('s1', ''));
    let text = await scrape();
    expect(samples(text, 'mcp_server_sessions_active')).toEqual(['mcp_server_sessions_active{transport="streamable_http",client_name="unknown"} 1']);
    expect(samples(text, 'mcp_server_sessions_total')).toEqual(['mcp_server_sessions_total{transport="streamable_http",client_name="unknown"} 1']);
    tracker.close('s1', 'client_delete');
    text = await scrape();
    expect(samples(text, 'mcp_server_sessions_active')).toEqual(['mcp_server_sessions_active{transport="streamable_http",client_name="unknown"} 0']);
  });

  it('keeps at most 20 client names plus other over 10,000 distinct names, and the gauge returns to 0', async () => {
    const { tracker, scrape } = rig();
    for (let i = 0; i < 10_000; i++) tracker.establish(start(`s${i}`, `client-${i}`));
    let text = await scrape();
    const names = labelValues(text, 'mcp_server_sessions_active', 'client_name');
    expect(names.size).toBe(21);
    expect(names.has('other')).toBe(true);
    expect(names.has('client-19')).toBe(true);
    expect(names.has('client-20')).toBe(false);
    expect(labelValues(text, 'mcp_server_sessions_total', 'client_name')).toEqual(names);
    expect(samples(text, 'mcp_server_sessions_active')).toContain('mcp_server_sessions_active{transport="streamable_http",client_name="client-0"} 1');
    expect(samples(text, 'mcp_server_sessions_active')).toContain('mcp_server_sessions_active{transport="streamable_http",client_name="other"} 9980');
    expect(samples(text, 'mcp_server_sessions_total')).toContain('mcp_server_sessions_total{transport="streamable_http",client_name="other"} 9980');

    for (let i = 0; i < 10_000; i++) tracker.close(`s${i}`, 'client_delete');
    text = await scrape();
    const active = samples(text, 'mcp_server_sessions_active');
    expect(active.length).toBe(21);
    expect(active.filter((line) => !line.endsWith('} 0'))).toEqual([]);
    expect(labelValues(text, 'mcp_server_sessions_active', 'client_name')).toEqual(names);
    expect(samples(text, 'mcp_server_sessions_closed_total')[0]).toBe(
      'mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 10000',
    );
  });

  it('two monitors on two registries share nothing', async () => {
    const one = rig();
    const two = rig();
    for (let i = 0; i < 20; i++) one.tracker.establish(start(`s${i}`, `one-${i}`));
    one.tracker.reject('forbidden_host');
    two.tracker.establish(start('t1', 'fresh'));

    const textOne = await one.scrape();
    const textTwo = await two.scrape();
    // The first monitor's 20 names do not use up the second one's cap.
    expect(samples(textTwo, 'mcp_server_sessions_active')).toEqual(['mcp_server_sessions_active{transport="streamable_http",client_name="fresh"} 1']);
    expect(samples(textTwo, 'mcp_server_requests_rejected_total')).toEqual(ZERO_REJECTED);
    expect(labelValues(textOne, 'mcp_server_sessions_active', 'client_name').size).toBe(20);
    expect(labelValues(textOne, 'mcp_server_sessions_active', 'client_name').has('fresh')).toBe(false);
    expect(samples(textOne, 'mcp_server_requests_rejected_total')).toContain('mcp_server_requests_rejected_total{reason="forbidden_host"} 1');
  });

  it('two monitors on two registries fed by one tracker count the same', async () => {
    const tracker = new SessionTracker({ now: () => T0 });
    const a = new Registry();
    const b = new Registry();
    tracker.subscribe(new PromClientMonitor(a));
    tracker.subscribe(new PromClientMonitor(b));
    tracker.establish(start('s1', 'x'));
    const expected = ['mcp_server_sessions_active{transport="streamable_http",client_name="x"} 1'];
    expect(samples(await a.metrics(), 'mcp_server_sessions_active')).toEqual(expected);
    expect(samples(await b.metrics(), 'mcp_server_sessions_active')).toEqual(expected);
  });

  it('counts a listen stream in the subscription families, never in the session ones', async () => {
    const { tracker, advance, scrape } = rig();
    tracker.establish({ ...start('l1', 'listener'), kind: 'subscription', protocolVersion: '2026-07-28' });
    tracker.establish({ ...start('l2', 'listener'), kind: 'subscription', protocolVersion: '2026-07-28' });
    advance(2500);
    tracker.close('l1', 'client_delete');
    const text = await scrape();
    expect(samples(text, 'mcp_server_subscriptions_active')).toEqual(['mcp_server_subscriptions_active{client_name="listener"} 1']);
    expect(samples(text, 'mcp_server_subscriptions_total')).toEqual(['mcp_server_subscriptions_total{client_name="listener"} 2']);
    expect(samples(text, 'mcp_server_subscription_duration_seconds_count')).toEqual(['mcp_server_subscription_duration_seconds_count{reason="client_delete"} 1']);
    expect(samples(text, 'mcp_server_subscription_duration_seconds_sum')).toEqual(['mcp_server_subscription_duration_seconds_sum{reason="client_delete"} 2.5']);
    expect(samples(text, 'mcp_server_sessions_active')).toEqual([]);
    expect(samples(text, 'mcp_server_sessions_closed_total')).toEqual(ZERO_CLOSED);
    expect([tracker.activeOf('subscription'), tracker.activeOf('session'), tracker.totalOf('subscription')]).toEqual([1, 0, 2]);
  });

  it('labels operations by protocol version and counts requests by client and version', async () => {
    const { tracker, scrape } = rig();
    const client = { clientName: 'both-eras', clientVersion: '1', clientIP: '203.0.113.0', userAgent: 'ua' };
    const op = (protocolVersion: string) =>
      tracker.recordOperation({ transport: 'streamable_http', method: 'tools/call', toolName: 'echo', protocolVersion, client, errorType: '', durationSeconds: 0.003 });
    op('2025-11-25');
    op('2026-07-28');
    op('2026-07-28');
    op('2031-01-01');
    op('');
    const text = await scrape();
    expect(samples(text, 'mcp_server_operation_duration_seconds_count')).toEqual([
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2026-07-28"} 2',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="other"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version=""} 1',
    ]);
    expect(samples(text, 'mcp_server_client_requests_total')).toEqual([
      'mcp_server_client_requests_total{client_name="both-eras",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_client_requests_total{client_name="both-eras",mcp_protocol_version="2026-07-28"} 2',
      'mcp_server_client_requests_total{client_name="both-eras",mcp_protocol_version="other"} 1',
      'mcp_server_client_requests_total{client_name="both-eras",mcp_protocol_version=""} 1',
    ]);
  });
});
