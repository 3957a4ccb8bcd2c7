import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/core/logger.js';
import type { MonitoredServer } from '../../src/server.js';
import { adminUrl, connectClient, getJson, postRaw, samples, scrape, startDemo, type ConnectedClient } from '../helpers.js';

const servers: MonitoredServer[] = [];
const clients: ConnectedClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.client.close().catch(() => {})));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** How many bad requests the run sends, and how many at a time. */
const REQUESTS = 2400;
const CONCURRENCY = 16;
const MAX_BODY = 64 * 1024;
/** A guard, not a wait: a request still unanswered after this fails the run instead of hanging it. */
const REQUEST_GUARD_MS = 10_000;
const PROTOCOL = '2025-06-18';

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
class Rng {
  constructor(private state: number) {}

  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }

  uuid(): string {
    const hex = Array.from({ length: 32 }, () => this.int(16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}

/** One generated request. `node` requests go through node:http (chunked, slow, or a lying Content-Length). */
interface Spec {
  category: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** Sent over node:http in these parts, with `pauses` macrotasks between two parts. */
  parts?: readonly string[];
  pauses?: number;
}

interface Outcome {
  spec: Spec;
  status: number;
  contentType: string;
  body: string;
  /** The Mcp-Session-Id the answer carried. */
  sessionId: string | undefined;
}

interface Failure {
  spec: Spec;
  error: string;
}

const jsonHeaders = (): Record<string, string> => ({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' });

const initBody = (id: unknown, clientInfo: unknown, protocolVersion: unknown = PROTOCOL): string =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion, capabilities: {}, clientInfo } });

/** Builds the deterministic abuse mix for one server and its dedicated abuse session. */
class AbuseGenerator {
  private nextId = 1_000_000;
  /** Odd ids that are valid JSON-RPC ids go into the abuse session once each: two requests with one id would share a stream. */
  private readonly usedInSession = new Set<string>();

  constructor(
    private readonly rng: Rng,
    private readonly session: string,
  ) {}

  private uniqueId(): number {
    return this.nextId++;
  }

  private inSession(extra: Record<string, string> = {}): Record<string, string> {
    return { ...jsonHeaders(), 'mcp-session-id': this.session, 'mcp-protocol-version': PROTOCOL, ...extra };
  }

  /** Half the time in the abuse session (the SDK's checks), half with no session (the host's). */
  private someSession(): Record<string, string> {
    return this.rng.chance(0.5) ? this.inSession() : jsonHeaders();
  }

  private readonly categories: readonly (readonly [string, number, () => Spec])[] = [
    ['invalid_json', 10, () => this.invalidJson()],
    ['wrong_types', 8, () => this.wrongTypes()],
    ['odd_ids', 8, () => this.oddIds()],
    ['unknown_method', 7, () => this.unknownMethod()],
    ['no_session', 5, () => this.noSession()],
    ['forged_session', 7, () => this.forgedSession()],
    ['malformed_session', 7, () => this.malformedSession()],
    ['wrong_content_type', 6, () => this.wrongContentType()],
    ['wrong_accept', 6, () => this.wrongAccept()],
    ['batch', 6, () => this.batch()],
    ['oversized', 4, () => this.oversized()],
    ['get_delete', 6, () => this.getDelete()],
    ['other_methods', 4, () => this.otherMethods()],
    ['slow_body', 2, () => this.slowBody()],
    ['abuse_session', 8, () => this.abuseSession()],
    ['initialize_variants', 3, () => this.initializeVariants()],
    ['legacy_sse', 2, () => this.legacySse()],
  ];

  generate(count: number): Spec[] {
    const total = this.categories.reduce((sum, [, weight]) => sum + weight, 0);
    const specs: Spec[] = [];
    for (let i = 0; i < count; i++) {
      let roll = this.rng.int(total);
      for (const [, weight, make] of this.categories) {
        if (roll < weight) {
          specs.push(make());
          break;
        }
        roll -= weight;
      }
    }
    return specs;
  }

  private post(category: string, headers: Record<string, string>, body: string | Uint8Array): Spec {
    return { category, method: 'POST', path: '/mcp', headers, body };
  }

  private invalidJson(): Spec {
    const valid = JSON.stringify({ jsonrpc: '2.0', id: this.uniqueId(), method: 'tools/list', params: {} });
    const body = this.rng.pick<() => string | Uint8Array>([
      () => valid.slice(0, this.rng.between(1, valid.length - 1)),
      () => this.rng.bytes(this.rng.between(1, 512)),
      () => '',
      () => '{{{{',
      () => "{'jsonrpc':'2.0'}",
      () => 'NaN',
      () => 'undefined',
      () => '[1,2,',
      () => '{"a":1}}',
      () => '\u0000\u0001\u0002',
      () => `{"jsonrpc":"2.0","id":1,"method":"${'\\u'.repeat(3)}"}`,
      () => '\uFEFF{"jsonrpc":"2.0","id":1,"method":"ping"}',
    ])();
    return this.post('invalid_json', this.someSession(), body);
  }

  private wrongTypes(): Spec {
    const body = this.rng.pick([
      '42',
      '-1.5e10',
      '"a string"',
      '[1,"x",null,{},[]]',
      'null',
      'true',
      '{}',
      '[[[]]]',
      '{"jsonrpc":"2.0"}',
      '{"jsonrpc":1,"method":5}',
      '{"jsonrpc":"2.0","method":["tools/list"]}',
      '{"method":"initialize","params":"nope"}',
      '{"method":"initialize"}',
      '{"jsonrpc":"2.0","id":1,"method":"initialize","params":null}',
      '{"jsonrpc":"2.0","id":1,"method":"initialize","params":[]}',
      '{"__proto__":{"polluted":true},"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    ]);
    return this.post('wrong_types', this.someSession(), body);
  }

  private oddIds(): Spec {
    const literal = this.rng.pick([
      '1e308',
      '-0',
      '1.7976931348623157e308',
      '-1',
      '0.5',
      '9007199254740993',
      '-9007199254740993',
      'LONG',
      '""',
      '"\\u0000"',
      '{}',
      '{"nested":{"id":1}}',
      '[]',
      '[1,2]',
      'true',
      'null',
    ]);
    const id = literal === 'LONG' ? JSON.stringify(`${'i'.repeat(this.rng.between(1000, 20_000))}-${this.uniqueId()}`) : literal;
    const body = `{"jsonrpc":"2.0","id":${id},"method":"${this.rng.pick(['tools/list', 'ping', 'no/such/method'])}"}`;
    // A session id is only worth sending once per id value.
    const key = literal === 'LONG' ? id : literal;
    const headers = !this.usedInSession.has(key) && this.rng.chance(0.5) ? this.inSession() : jsonHeaders();
    if (headers['mcp-session-id'] !== undefined) this.usedInSession.add(key);
    return this.post('odd_ids', headers, body);
  }

  private unknownMethod(): Spec {
    const request = (method: string, params?: unknown): string =>
      JSON.stringify({ jsonrpc: '2.0', id: this.uniqueId(), method, ...(params === undefined ? {} : { params }) });
    const body = this.rng.pick<() => string>([
      () => request('does/not/exist'),
      () => request(''),
      () => request('m'.repeat(this.rng.between(100, 10_000))),
      () => request('__proto__'),
      () => request('constructor'),
      () => request('resources/read', { uri: 'file:///etc/passwd' }),
      () => request('prompts/get', { name: 'x' }),
      () => request('tools/call', {}),
      () => request('tools/call', { name: 'no-such-tool', arguments: {} }),
      () => request('tools/call', { name: 'echo', arguments: { text: 5 } }),
      () => request('tools/call', { name: 'echo', arguments: 'text' }),
      () => JSON.stringify({ jsonrpc: '2.0', method: 'notifications/does-not-exist', params: { x: 1 } }),
      () => JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'no-such-request' } }),
    ])();
    return this.post('unknown_method', this.someSession(), body);
  }

  private noSession(): Spec {
    return this.rng.pick<() => Spec>([
      () => this.post('no_session', jsonHeaders(), JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })),
      () => this.post('no_session', jsonHeaders(), JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })),
      () => ({ category: 'no_session', method: 'GET', path: '/mcp', headers: { accept: 'text/event-stream' } }),
      () => ({ category: 'no_session', method: 'DELETE', path: '/mcp', headers: {} }),
    ])();
  }

  private forgedSession(): Spec {
    const headers = { ...jsonHeaders(), 'mcp-session-id': this.rng.uuid(), 'mcp-protocol-version': PROTOCOL };
    return this.rng.pick<() => Spec>([
      () => this.post('forged_session', headers, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })),
      () => this.post('forged_session', headers, initBody(1, { name: 'forged', version: '1' })),
      () => ({ category: 'forged_session', method: 'GET', path: '/mcp', headers: { ...headers, accept: 'text/event-stream' } }),
      () => ({ category: 'forged_session', method: 'DELETE', path: '/mcp', headers }),
    ])();
  }

  private malformedSession(): Spec {
    const id = this.rng.pick<() => string>([
      () => 's'.repeat(this.rng.between(500, 8000)),
      // Past node's 16 KiB header limit: node answers 431 itself.
      () => 'S'.repeat(20_000),
      // Latin-1 is as far from ASCII as a header value can go.
      () => 'sessi\u00f3n-\u00ff\u00e9',
      () => '',
      () => this.session.toUpperCase(),
      () => `${this.session},${this.session}`,
      () => this.session.slice(0, -1),
      () => '../../etc/passwd',
      () => '%00',
    ])();
    const headers = { ...jsonHeaders(), 'mcp-session-id': id };
    return this.rng.pick<() => Spec>([
      () => this.post('malformed_session', headers, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })),
      () => ({ category: 'malformed_session', method: 'GET', path: '/mcp', headers: { ...headers, accept: 'text/event-stream' } }),
      () => ({ category: 'malformed_session', method: 'DELETE', path: '/mcp', headers }),
    ])();
  }

  private wrongContentType(): Spec {
    const contentType = this.rng.pick(['text/plain', 'NONE', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/jsonp', 'json']);
    const initialize = this.rng.chance(0.25);
    const text = initialize ? initBody(1, { name: 'wrong-ct', version: '1' }) : JSON.stringify({ jsonrpc: '2.0', id: this.uniqueId(), method: 'tools/list' });
    const base = initialize ? jsonHeaders() : this.inSession();
    const { 'content-type': _dropped, ...rest } = base;
    // A byte body gets no Content-Type from fetch: the way to send none.
    if (contentType === 'NONE') return this.post('wrong_content_type', rest, new TextEncoder().encode(text));
    return this.post('wrong_content_type', { ...rest, 'content-type': contentType }, text);
  }

  private wrongAccept(): Spec {
    const accept = this.rng.pick(['text/html', 'application/json', 'text/event-stream', 'image/png', 'application/jsonx', '']);
    const kind = this.rng.int(3);
    if (kind === 0) {
      return this.post('wrong_accept', { ...this.inSession(), accept }, JSON.stringify({ jsonrpc: '2.0', id: this.uniqueId(), method: 'tools/list' }));
    }
    if (kind === 1) {
      return this.post('wrong_accept', { ...jsonHeaders(), accept }, initBody(1, { name: 'wrong-accept', version: '1' }));
    }
    return { category: 'wrong_accept', method: 'GET', path: '/mcp', headers: { ...this.inSession(), accept: accept === 'text/event-stream' ? 'text/html' : accept } };
  }

  private batch(): Spec {
    const item = (): unknown =>
      this.rng.pick<() => unknown>([
        () => ({ jsonrpc: '2.0', id: this.uniqueId(), method: 'ping' }),
        () => ({ jsonrpc: '2.0', id: this.uniqueId(), method: 'tools/list' }),
        () => ({ jsonrpc: '2.0', id: this.uniqueId(), method: 'no/such/method' }),
        () => ({ jsonrpc: '2.0', method: 'notifications/initialized' }),
        () => ({ jsonrpc: '2.0', id: -this.uniqueId(), result: {} }),
        () => ({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'no-such-request' } }),
      ])();
    const junk = (): unknown => this.rng.pick<unknown>([1, 'x', null, [], { jsonrpc: '1.0' }]);
    const init = JSON.parse(initBody(this.uniqueId(), { name: 'batched', version: '1' })) as unknown;
    const kind = this.rng.int(5);
    let body: unknown[];
    if (kind === 0) body = [];
    else if (kind === 1) body = Array.from({ length: 10 }, item);
    else if (kind === 2) body = Array.from({ length: 10 }, (_, i) => (i === 4 ? junk() : item()));
    else if (kind === 3) body = [item(), init, item()];
    else body = [init];
    return this.post('batch', this.someSession(), JSON.stringify(body));
  }

  private oversized(): Spec {
    const size = this.rng.between(MAX_BODY + 1, 4 * MAX_BODY);
    const pad = 'p'.repeat(size);
    const text = JSON.stringify({ jsonrpc: '2.0', id: this.uniqueId(), method: 'tools/list', params: { pad } });
    const headers = this.someSession();
    const how = this.rng.int(3);
    if (how === 0) return this.post('oversized', headers, text);
    if (how === 1) {
      // No Content-Length: the host counts the bytes as they come.
      const parts = [text.slice(0, 1000), text.slice(1000, MAX_BODY), text.slice(MAX_BODY)];
      return { category: 'oversized', method: 'POST', path: '/mcp', headers: { ...headers, 'transfer-encoding': 'chunked' }, parts, pauses: 1 };
    }
    // A Content-Length over the cap, and a body that never comes.
    return { category: 'oversized', method: 'POST', path: '/mcp', headers: { ...headers, 'content-length': String(size) }, parts: ['{"jsonrpc"'], pauses: 0 };
  }

  private getDelete(): Spec {
    const bad = this.rng.pick([this.rng.uuid(), 'not-a-session', this.session.toUpperCase()]);
    return this.rng.pick<() => Spec>([
      () => ({ category: 'get_delete', method: 'GET', path: '/mcp', headers: { accept: 'text/event-stream', 'mcp-session-id': bad } }),
      () => ({ category: 'get_delete', method: 'DELETE', path: '/mcp', headers: { 'mcp-session-id': bad } }),
      // The abuse session's own id, with a protocol version it never agreed to: refused, and the session lives on.
      () => ({ category: 'get_delete', method: 'DELETE', path: '/mcp', headers: { 'mcp-session-id': this.session, 'mcp-protocol-version': '1999-01-01' } }),
      () => ({ category: 'get_delete', method: 'GET', path: '/mcp', headers: { 'mcp-session-id': this.session, accept: 'text/event-stream', 'mcp-protocol-version': '1999-01-01' } }),
      () => ({ category: 'get_delete', method: 'GET', path: '/mcp?sessionId=x&x=%ZZ', headers: { accept: 'text/event-stream' } }),
    ])();
  }

  private otherMethods(): Spec {
    const method = this.rng.pick(['PUT', 'PATCH', 'OPTIONS', 'HEAD']);
    const headers = this.rng.chance(0.5) ? this.inSession() : jsonHeaders();
    const body = method === 'HEAD' ? undefined : JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
    return { category: 'other_methods', method, path: this.rng.pick(['/mcp', '/mcp?x=1']), headers, body };
  }

  private slowBody(): Spec {
    const kind = this.rng.int(4);
    let text: string;
    let headers: Record<string, string>;
    if (kind === 0) {
      text = JSON.stringify({ jsonrpc: '2.0', id: this.uniqueId(), method: 'ping' });
      headers = this.inSession();
    } else if (kind === 1) {
      text = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
      headers = jsonHeaders();
    } else if (kind === 2) {
      text = '{"jsonrpc":"2.0","id":1,"method":"tools/list",';
      headers = this.someSession();
    } else {
      text = initBody(1, { name: 'slow-client', version: '1' });
      headers = jsonHeaders();
    }
    const cut1 = this.rng.between(1, text.length - 2);
    const cut2 = this.rng.between(cut1 + 1, text.length - 1);
    return {
      category: 'slow_body',
      method: 'POST',
      path: '/mcp',
      headers,
      parts: [text.slice(0, cut1), text.slice(cut1, cut2), text.slice(cut2)],
      pauses: this.rng.between(1, 4),
    };
  }

  private abuseSession(): Spec {
    const id = this.uniqueId();
    const pick = this.rng.int(12);
    const session = this.inSession();
    const post = (body: string, headers = session): Spec => this.post('abuse_session', headers, body);
    switch (pick) {
      case 0:
        return post(JSON.stringify({ jsonrpc: '1.0', id, method: 'ping' }));
      case 1:
        return post(JSON.stringify({ id, method: 'ping' }));
      case 2:
        return post(JSON.stringify({ jsonrpc: '2.0', id, method: 5 }));
      case 3:
        return post(JSON.stringify({ jsonrpc: '2.0', id, method: 'ping', params: 'not-an-object' }));
      case 4:
        return post(JSON.stringify({ jsonrpc: '2.0', result: 1 }));
      case 5:
        return post(JSON.stringify({ jsonrpc: '2.0', id, error: 'not-an-object' }));
      case 6:
        // A second initialize in an initialized session.
        return post(initBody(id, { name: 'again', version: '1' }));
      case 7:
        return post(
          JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }),
          { ...session, 'mcp-protocol-version': this.rng.pick(['1999-01-01', '', 'x'.repeat(500), '2025-06-18, 2025-03-26', 'latest']) },
        );
      case 8:
        return post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      case 9:
        return post(JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }));
      case 10:
        return post(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'from the abuser' } } }));
      default:
        return post(JSON.stringify({ jsonrpc: '2.0', id: -id, result: { unexpected: true } }));
    }
  }

  private initializeVariants(): Spec {
    const names = ['', 'n'.repeat(2000), '\u540d\u524d', 'a"b\\c\nd', '<script>alert(1)</script>', 'client {x="1"} 2', ...Array.from({ length: 30 }, (_, i) => `abuser-${i}`)];
    const body = this.rng.pick<() => string>([
      () => initBody(this.uniqueId(), { name: this.rng.pick(names), version: '1' }),
      () => initBody(this.uniqueId(), { name: this.rng.pick(names), version: '1' }, '1999-01-01'),
      () => initBody(this.uniqueId(), { name: 'bad-version', version: '1' }, 123),
      () => initBody(this.uniqueId(), undefined),
      () => initBody(this.uniqueId(), { name: 42, version: [] }),
      () => initBody({}, { name: 'object-id', version: '1' }),
      () => JSON.stringify({ jsonrpc: '2.0', id: this.uniqueId(), method: 'initialize' }),
      () => JSON.stringify({ jsonrpc: '2.0', method: 'initialize', params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'as-notification', version: '1' } } }),
    ])();
    return this.post('initialize_variants', jsonHeaders(), body);
  }

  private legacySse(): Spec {
    return this.rng.pick<() => Spec>([
      () => ({ category: 'legacy_sse', method: 'POST', path: '/messages', headers: jsonHeaders(), body: '{}' }),
      () => ({ category: 'legacy_sse', method: 'POST', path: `/messages?sessionId=${this.rng.uuid()}`, headers: jsonHeaders(), body: '{}' }),
      () => ({ category: 'legacy_sse', method: 'POST', path: `/messages?sessionId=${this.session}`, headers: jsonHeaders(), body: '{}' }),
      () => ({ category: 'legacy_sse', method: 'GET', path: '/messages?sessionId=x', headers: {} }),
      () => ({ category: 'legacy_sse', method: 'POST', path: '/sse', headers: jsonHeaders(), body: '{}' }),
    ])();
  }
}

/** Sends one spec; the answer's body is read whole, except a GET stream, which is cancelled once it opens. */
async function send(base: string, spec: Spec): Promise<Outcome> {
  if (spec.parts) return sendOverNodeHttp(base, spec);
  const res = await fetch(`${base}${spec.path}`, {
    method: spec.method,
    headers: spec.headers,
    body: spec.body,
    signal: AbortSignal.timeout(REQUEST_GUARD_MS),
  });
  const contentType = res.headers.get('content-type') ?? '';
  let body = '';
  if (spec.method === 'GET' && contentType.startsWith('text/event-stream')) await res.body?.cancel();
  else body = await res.text();
  return { spec, status: res.status, contentType, body, sessionId: res.headers.get('mcp-session-id') ?? undefined };
}

const nextMacrotask = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

function sendOverNodeHttp(base: string, spec: Spec): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    let answered = false;
    const req = httpRequest(`${base}${spec.path}`, { method: spec.method, headers: spec.headers, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const header = res.headers['mcp-session-id'];
        resolve({
          spec,
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'] ?? '',
          body: Buffer.concat(chunks).toString('utf8'),
          sessionId: Array.isArray(header) ? header[0] : header,
        });
      });
    });
    req.setTimeout(REQUEST_GUARD_MS, () => req.destroy(new Error(`no answer in ${REQUEST_GUARD_MS} ms`)));
    // The server may close the socket once it has refused a body; writes after its answer may fail.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    void (async () => {
      const parts = spec.parts ?? [];
      for (const [i, part] of parts.entries()) {
        if (answered || req.destroyed) break;
        req.write(part);
        if (i < parts.length - 1) for (let p = 0; p < (spec.pauses ?? 0); p++) await nextMacrotask();
      }
      // A lying Content-Length never gets its body: the server must answer without it.
      if (spec.headers['content-length'] === undefined && !req.destroyed) req.end();
    })();
  });
}

async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const index = next++;
      const item = items[index];
      if (item === undefined) return;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

const sum = (lines: readonly string[]): number => lines.reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);

function isJsonRpcError(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { jsonrpc?: unknown; error?: { code?: unknown; message?: unknown } | null; id?: unknown };
  return (
    v.jsonrpc === '2.0' &&
    typeof v.error === 'object' &&
    v.error !== null &&
    typeof v.error.code === 'number' &&
    Number.isInteger(v.error.code) &&
    typeof v.error.message === 'string' &&
    (v.id === null || typeof v.id === 'string' || typeof v.id === 'number')
  );
}

const MCP_PATHS = ['/mcp', '/sse', '/messages'];

/** The clientInfo.name of an initialize spec's body. */
function clientNameOf(spec: Spec): string {
  const text = spec.parts ? spec.parts.join('') : typeof spec.body === 'string' ? spec.body : '';
  const parsed = JSON.parse(text) as { params?: { clientInfo?: { name?: unknown } } };
  const name = parsed.params?.clientInfo?.name;
  return typeof name === 'string' ? name : '';
}
const INIT = initBody(1, { name: 'abuse-session', version: '1' });

describe('abuse: thousands of bad requests against one live server', () => {
  it('answers each one cleanly, never fails the good client, and keeps exact session counts', { timeout: 60_000 }, async () => {
    const errorLines: string[] = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: (fields, msg) => errorLines.push(`warn ${msg} ${JSON.stringify(fields)}`),
      error: (fields, msg) => errorLines.push(`error ${msg} ${JSON.stringify(fields)}`),
    };
    const server = await startDemo({ maxBodyBytes: MAX_BODY, logger });
    servers.push(server);
    const base = `http://127.0.0.1:${server.port}`;

    let unhandled = 0;
    let uncaught = 0;
    const onUnhandled = (): void => {
      unhandled += 1;
    };
    const onUncaught = (): void => {
      uncaught += 1;
    };
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUncaught);
    try {
      const good = await connectClient(server.url, 'good-client');
      clients.push(good);

      // The dedicated abuse session, set up by hand so its id can be abused.
      const init = await postRaw(server.url, INIT);
      expect(init.status).toBe(200);
      const abuseSession = init.headers.get('mcp-session-id') ?? '';
      await init.text();
      expect(abuseSession).toMatch(/^[0-9a-f-]{36}$/);
      const initialized = await postRaw(server.url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), {
        'mcp-session-id': abuseSession,
        'mcp-protocol-version': PROTOCOL,
      });
      expect(initialized.status).toBe(202);
      await initialized.text();

      const specs = new AbuseGenerator(new Rng(0x5eed_2025), abuseSession).generate(REQUESTS);

      // The well-behaved client calls echo the whole time.
      let abuseDone = false;
      let goodCalls = 0;
      const goodFailures: string[] = [];
      const goodLoop = (async () => {
        while (!abuseDone) {
          const text = `good-${goodCalls}`;
          try {
            const result = await good.client.callTool({ name: 'echo', arguments: { text } });
            const expected = { content: [{ type: 'text', text }] };
            if (JSON.stringify(result) !== JSON.stringify(expected)) goodFailures.push(`call ${goodCalls}: ${JSON.stringify(result)}`);
          } catch (error) {
            goodFailures.push(`call ${goodCalls}: ${error instanceof Error ? error.message : String(error)}`);
          }
          goodCalls += 1;
        }
      })();

      const outcomes: Outcome[] = [];
      const failures: Failure[] = [];
      const started = Date.now();
      try {
        await pool(specs, CONCURRENCY, async (spec) => {
          try {
            outcomes.push(await send(base, spec));
          } catch (error) {
            const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
            failures.push({ spec, error: `${error instanceof Error ? error.message : String(error)}${cause}` });
          }
        });
      } finally {
        abuseDone = true;
        await goodLoop;
      }
      const elapsedMs = Date.now() - started;

      // The summary: requests per category and per status.
      const byCategory: Record<string, number> = {};
      const byStatus: Record<string, number> = {};
      for (const spec of specs) byCategory[spec.category] = (byCategory[spec.category] ?? 0) + 1;
      for (const o of outcomes) byStatus[o.status] = (byStatus[o.status] ?? 0) + 1;
      if (failures.length > 0) byStatus.no_answer = failures.length;
      console.log(
        `abuse: ${specs.length} requests in ${elapsedMs} ms, ${goodCalls} good echo calls; by category ${JSON.stringify(byCategory)}; by status ${JSON.stringify(byStatus)}`,
      );

      expect(specs.length).toBeGreaterThanOrEqual(2000);
      expect(failures.map((f) => `${f.spec.category} ${f.spec.method} ${f.spec.path}: ${f.error}`)).toEqual([]);
      expect(outcomes).toHaveLength(specs.length);
      expect(outcomes.filter((o) => o.status < 200 || o.status > 599).map((o) => `${o.spec.category}: ${o.status}`)).toEqual([]);
      expect(outcomes.filter((o) => o.status === 500).map((o) => `${o.spec.category}: ${o.body}`)).toEqual([]);
      expect(outcomes.filter((o) => o.status >= 500).map((o) => `${o.spec.category}: ${o.status} ${o.body}`)).toEqual([]);

      const badErrorBodies = outcomes
        .filter((o) => o.status >= 400 && MCP_PATHS.includes(o.spec.path.split('?', 1)[0] ?? '') && o.contentType.startsWith('application/json'))
        // A HEAD answer has no body, by HTTP.
        .filter((o) => o.spec.method !== 'HEAD')
        .filter((o) => {
          try {
            return !isJsonRpcError(JSON.parse(o.body));
          } catch {
            return true;
          }
        })
        .map((o) => `${o.spec.category} ${o.spec.method} ${o.status}: ${o.body.slice(0, 200)}`);
      expect(badErrorBodies).toEqual([]);

      // Every category met the server and was refused at least once (none slipped through untested).
      for (const category of Object.keys(byCategory)) {
        expect({ category, refused: outcomes.some((o) => o.spec.category === category && o.status >= 400) }).toEqual({ category, refused: true });
      }

      expect(goodFailures).toEqual([]);
      expect(goodCalls).toBeGreaterThan(10);
      expect([unhandled, uncaught]).toEqual([0, 0]);
      expect(errorLines).toEqual([]);

      // Still serving: the good client, the abuse session, and a newcomer.
      expect(await good.client.callTool({ name: 'echo', arguments: { text: 'after' } })).toEqual({ content: [{ type: 'text', text: 'after' }] });
      const ping = await postRaw(server.url, JSON.stringify({ jsonrpc: '2.0', id: 'after', method: 'ping' }), {
        'mcp-session-id': abuseSession,
        'mcp-protocol-version': PROTOCOL,
      });
      expect(ping.status).toBe(200);
      expect(await ping.text()).toContain('"id":"after"');
      const newcomer = await connectClient(server.url, 'newcomer');
      clients.push(newcomer);
      expect(await newcomer.client.callTool({ name: 'echo', arguments: { text: 'new' } })).toEqual({ content: [{ type: 'text', text: 'new' }] });

      // The gauge, the tracker and the API agree, and the counters add up.
      const metrics = await scrape(server);
      const active = sum(samples(metrics, 'mcp_server_sessions_active'));
      const opened = sum(samples(metrics, 'mcp_server_sessions_total'));
      const closed = sum(samples(metrics, 'mcp_server_sessions_closed_total'));
      const api = await getJson(adminUrl(server, '/api/mcp/connections?limit=1000'));
      expect(api.status).toBe(200);
      const apiActive = (api.body as { activeConnections: number }).activeConnections;
      console.log(`abuse: sessions after the run: active ${active}, opened ${opened}, closed ${closed}`);
      expect({ tracker: server.tracker.activeCount, api: apiActive }).toEqual({ tracker: active, api: active });
      expect(opened - closed).toBe(active);
      expect(server.tracker.totalCount).toBe(opened);

      // And they are exactly the sessions a client was told the id of: the good client, the
      // abuse session, the newcomer, and every initialize of the abuse that was answered
      // with an Mcp-Session-Id. A session nobody holds the id of could only idle out.
      const accepted = outcomes.filter((o) => o.status === 200 && o.sessionId !== undefined && o.spec.headers['mcp-session-id'] === undefined);
      const short = (name: string): string => (name.length > 40 ? `${name.slice(0, 40)}...(${name.length})` : name);
      // Client names are kept to their first 128 characters.
      const expectedNames = ['good-client', 'abuse-session', 'newcomer', ...accepted.map((o) => clientNameOf(o.spec).slice(0, 128))].map(short).sort();
      const openNames = server.tracker.getConnections(0, 1000).map((c) => short(c.clientName)).sort();
      expect(openNames).toEqual(expectedNames);
      expect(active).toBe(3 + accepted.length);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      process.off('uncaughtException', onUncaught);
    }
  });
});
