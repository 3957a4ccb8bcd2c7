/**
 * The wire monitor's classification, row by row: canned HTTP exchanges (request + answer)
 * and the exact facts each must produce, as docs/wire-monitor.md says,
 * not as any code happens to do.
 *
 * Most answers are real: test/fixtures/exchanges/sdk-answers.json, captured from the SDK v1
 * (StreamableHTTPServerTransport, stateful, with an event store, JSON mode, stateless) and the
 * SDK v2 (createMcpHandler) by test/fixtures/exchanges/capture.ts (regenerate it with
 * `npx tsx test/fixtures/exchanges/capture.ts`). Answers no SDK makes (a proxy's 502, a
 * client that left, a gateway's 401/403/413, a text/plain 200) are written below, in HAND.
 *
 * Each row runs in a fresh SessionTracker + HttpExchangeMonitor; its steps go through
 * monitor.exchange() one after another (a step that needs a session runs the initialize
 * exchange first), each answer's body read to its end (or, for a stream that stays open, its
 * frames read and then the client leaves or the monitor shuts down). A fact is what a
 * ConnectionMonitor subscribed to the tracker hears, as one string:
 *   operation <method>[ <tool>] error=<errorType> version=<protocolVersion> client=<name>@<version>
 *   rejected <reason>
 *   established <kind> <transport> client=<name>@<version> version=<protocolVersion>
 *   closed <kind> <reason> requests=<requestCount>
 * (`client=` alone: no name and no version.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SessionTracker } from '../../src/core/session-tracker.js';
import type { ClientFacts } from '../../src/core/types.js';
import { DEMO_TOOLS } from '../../src/demo/demo-server.js';
import type { ExchangeFacts } from '../../src/wire/exchange.js';
import { HttpExchangeMonitor } from '../../src/wire/exchange-monitor.js';
import type { CapturedAnswer, CapturedExchange, CapturedRequest } from '../fixtures/exchanges/capture.js';

interface Exchange {
  request: CapturedRequest;
  answer: CapturedAnswer;
}

const SDK = (JSON.parse(readFileSync(new URL('../fixtures/exchanges/sdk-answers.json', import.meta.url), 'utf8')) as { exchanges: Record<string, CapturedExchange> }).exchanges;

/** A captured exchange by its name (server/case). */
function sdk(name: string): Exchange {
  const exchange = SDK[name];
  if (!exchange) throw new Error(`no captured exchange ${name}: regenerate the fixture?`);
  return exchange;
}

/** A captured request with another answer. */
const answered = (name: string, answer: CapturedAnswer): Exchange => ({ request: sdk(name).request, answer });

const jsonAnswer = (status: number, body: string, headers?: CapturedAnswer['headers']): CapturedAnswer => ({
  status,
  contentType: 'application/json',
  sessionId: null,
  ...(headers ? { headers } : {}),
  body,
});

/** Answers no SDK makes: proxies, gateways, clients that leave. */
const HAND = {
  /** The proxy's answer when its upstream is down (src/proxy/http-upstream.ts, unreachable()). */
  badGateway: jsonAnswer(
    502,
    '{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Gateway: the upstream MCP server at http://127.0.0.1:9/mcp did not answer (connection refused)"},"id":null}',
  ),
  /** The SDK v1 example host's answer when its handler throws. */
  internalError: jsonAnswer(500, '{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal server error"},"id":null}'),
  /** A load balancer with no backend. */
  unavailable: { status: 503, contentType: 'text/plain', sessionId: null, body: 'no healthy upstream' } satisfies CapturedAnswer,
  /** A gateway's OAuth challenge. */
  unauthorized: jsonAnswer(401, '{"error":"invalid_token","error_description":"The access token expired"}', {
    'www-authenticate': 'Bearer error="invalid_token", error_description="The access token expired"',
  }),
  /** A WAF or an ingress allow-list: no challenge. */
  forbidden: { status: 403, contentType: 'text/html', sessionId: null, body: '<html><body><h1>403 Forbidden</h1></body></html>' } satisfies CapturedAnswer,
  /** nginx's client_max_body_size. */
  tooLarge: {
    status: 413,
    contentType: 'text/html',
    sessionId: null,
    body: '<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n</body>\r\n</html>\r\n',
  } satisfies CapturedAnswer,
  /** A 200 that is neither JSON nor SSE (a catch-all route, a misconfigured proxy). */
  plainText: { status: 200, contentType: 'text/plain; charset=utf-8', sessionId: null, body: 'OK' } satisfies CapturedAnswer,
  /** A JSON answer whose response is another request's. */
  otherId: jsonAnswer(200, '{"jsonrpc":"2.0","id":999,"result":{"content":[]}}'),
};

/** Who sends a request: its address and user agent (the monitor knows nothing else of the client's connection). */
const CLIENT_A: ExchangeFacts = { clientIP: '10.0.0.1', userAgent: 'client-a/1.0' };
const CLIENT_B: ExchangeFacts = { clientIP: '10.0.0.2', userAgent: 'client-b/1.0' };

interface Step {
  exchange: Exchange;
  /** @default CLIENT_A */
  from?: ExchangeFacts;
  /** The client leaves before the answer: the request's signal is aborted while it is served (the 499 of exchange()). */
  clientLeaves?: boolean;
  /** The stream stays open after its canned frames; then the client leaves, or the monitor shuts down (closeAll). */
  open?: 'client_leaves' | 'shutdown';
}

interface Row {
  name: string;
  steps: (string | Exchange | Step)[];
  facts: string[];
}

// Facts, written once.
const C1 = 'client=c1@1.0.0';
const C2 = 'client=c2@2.0.0';
const NOBODY = 'client=';
const V25 = '2025-06-18';
const V1125 = '2025-11-25';
const V26 = '2026-07-28';
const op = (method: string, tool: string, error: string, version: string, client: string): string =>
  `operation ${method}${tool ? ` ${tool}` : ''} error=${error} version=${version} ${client}`;
const session = (version: string, client = C1): string => `established session streamable_http ${client} version=${version}`;
const init = (version: string, client = C1): string => op('initialize', '', '', version, client);
/** What an initialize answered with a session id records. */
const opened = (version: string, client = C1): string[] => [session(version, client), init(version, client)];
const rejected = (reason: string): string => `rejected ${reason}`;

const ROWS: Record<string, Row[]> = {
  'SDK v1, stateful (SSE answers)': [
    { name: 'initialize: a session and the operation', steps: ['v1-stateful/initialize'], facts: opened(V25) },
    {
      // Today: the initialize operation carries the requested version (2026-07-28).
      name: 'initialize asking a newer revision: session and operation carry the negotiated one',
      steps: ['v1-stateful/initialize-newer-version', 'v1-stateful/initialize-newer-version-tools-call'],
      facts: [...opened(V1125), op('tools/call', 'echo', '', V1125, C1)],
    },
    { name: 'notifications/initialized (202): nothing', steps: ['v1-stateful/initialize', 'v1-stateful/initialized-notification'], facts: opened(V25) },
    { name: 'tools/list', steps: ['v1-stateful/initialize', 'v1-stateful/tools-list'], facts: [...opened(V25), op('tools/list', '', '', V25, C1)] },
    { name: 'tools/call echo', steps: ['v1-stateful/initialize', 'v1-stateful/tools-call-echo'], facts: [...opened(V25), op('tools/call', 'echo', '', V25, C1)] },
    { name: 'tools/call: isError', steps: ['v1-stateful/initialize', 'v1-stateful/tools-call-fail'], facts: [...opened(V25), op('tools/call', 'fail', 'tool_error', V25, C1)] },
    {
      name: 'tools/call: the tool threw (the SDK answers isError)',
      steps: ['v1-stateful/initialize', 'v1-stateful/tools-call-throw'],
      facts: [...opened(V25), op('tools/call', 'throw', 'tool_error', V25, C1)],
    },
    {
      name: 'tools/call of an unknown tool (the SDK v1 answers isError, not a JSON-RPC error)',
      steps: ['v1-stateful/initialize', 'v1-stateful/tools-call-unknown-tool'],
      facts: [...opened(V25), op('tools/call', 'other', 'tool_error', V25, C1)],
    },
    {
      name: 'tools/call with invalid arguments (isError)',
      steps: ['v1-stateful/initialize', 'v1-stateful/tools-call-bad-arguments'],
      facts: [...opened(V25), op('tools/call', 'echo', 'tool_error', V25, C1)],
    },
    {
      name: 'an unknown method: -32601 in a 200',
      steps: ['v1-stateful/initialize', 'v1-stateful/unknown-method'],
      facts: [...opened(V25), op('other', '', '-32601', V25, C1)],
    },
    {
      name: 'a progress notification before the response is skipped',
      steps: ['v1-stateful/initialize', 'v1-stateful/tools-call-progress'],
      facts: [...opened(V25), op('tools/call', 'progress', '', V25, C1)],
    },
    {
      // Today: nothing (a batch is not read as messages).
      name: 'a batch of two requests: two operations',
      steps: ['v1-stateful/initialize', 'v1-stateful/batch'],
      facts: [...opened(V25), op('ping', '', '', V25, C1), op('tools/call', 'echo', '', V25, C1)],
    },
    { name: 'a batch of notifications (202): nothing', steps: ['v1-stateful/initialize', 'v1-stateful/batch-notifications'], facts: opened(V25) },
    { name: 'a response POSTed (202): nothing', steps: ['v1-stateful/initialize', 'v1-stateful/response-posted'], facts: opened(V25) },
    {
      name: 'a GET stream, then DELETE: closed client_delete, every request counted',
      steps: ['v1-stateful/initialize', { exchange: sdk('v1-stateful/get-stream'), open: 'client_leaves' }, 'v1-stateful/delete'],
      facts: [...opened(V25), 'closed session client_delete requests=3'],
    },
    {
      name: 'a whole session: initialize, notification, list, call, DELETE',
      steps: ['v1-stateful/initialize', 'v1-stateful/initialized-notification', 'v1-stateful/tools-list', 'v1-stateful/tools-call-echo', 'v1-stateful/delete'],
      facts: [...opened(V25), op('tools/list', '', '', V25, C1), op('tools/call', 'echo', '', V25, C1), 'closed session client_delete requests=5'],
    },
    {
      // Today: parse_error (a GET has no message).
      name: 'a second GET stream (409)',
      steps: ['v1-stateful/initialize', 'v1-stateful/get-second-stream'],
      facts: [...opened(V25), rejected('invalid_request')],
    },
    {
      // Today: parse_error.
      name: 'GET with a wrong Accept (406)',
      steps: ['v1-stateful/initialize', 'v1-stateful/get-wrong-accept'],
      facts: [...opened(V25), rejected('not_acceptable')],
    },
    {
      // Today: invalid_request.
      name: 'POST with a wrong Accept (406)',
      steps: ['v1-stateful/initialize', 'v1-stateful/post-wrong-accept'],
      facts: [...opened(V25), rejected('not_acceptable')],
    },
    { name: 'POST with a wrong Content-Type (415)', steps: ['v1-stateful/initialize', 'v1-stateful/post-wrong-content-type'], facts: [...opened(V25), rejected('invalid_request')] },
    { name: 'a body that is not JSON (400 -32700)', steps: ['v1-stateful/initialize', 'v1-stateful/invalid-json'], facts: [...opened(V25), rejected('parse_error')] },
    { name: 'JSON that is not JSON-RPC (400 -32700)', steps: ['v1-stateful/initialize', 'v1-stateful/invalid-jsonrpc'], facts: [...opened(V25), rejected('parse_error')] },
    { name: 'a second initialize in the session (400 -32600)', steps: ['v1-stateful/initialize', 'v1-stateful/second-initialize'], facts: [...opened(V25), rejected('invalid_request')] },
    {
      name: 'an unsupported MCP-Protocol-Version header in the session (400 -32000)',
      steps: ['v1-stateful/initialize', 'v1-stateful/unsupported-version-header'],
      facts: [...opened(V25), rejected('invalid_request')],
    },
    // Today: invalid_request.
    { name: 'a request without a session id (400)', steps: ['v1-stateful/no-session'], facts: [rejected('missing_session')] },
    // Today: parse_error (both).
    { name: 'GET without a session id (400 text/html)', steps: ['v1-stateful/get-no-session'], facts: [rejected('missing_session')] },
    { name: 'DELETE without a session id (400 text/html)', steps: ['v1-stateful/delete-no-session'], facts: [rejected('missing_session')] },
    { name: 'an unknown session id (404)', steps: ['v1-stateful/unknown-session'], facts: [rejected('unknown_session')] },
    { name: 'GET with an unknown session id (404)', steps: ['v1-stateful/get-unknown-session'], facts: [rejected('unknown_session')] },
    { name: 'DELETE with an unknown session id (404)', steps: ['v1-stateful/delete-unknown-session'], facts: [rejected('unknown_session')] },
    { name: 'an unknown session id while another session is followed (404)', steps: ['v1-stateful/initialize', 'v1-stateful/unknown-session'], facts: [...opened(V25), rejected('unknown_session')] },
    {
      name: 'DELETE of a followed session: closed client_delete',
      steps: ['v1-stateful/initialize', 'v1-stateful/delete'],
      facts: [...opened(V25), 'closed session client_delete requests=2'],
    },
    {
      name: 'a followed session the server no longer knows (404): closed transport_error',
      steps: ['v1-stateful/initialize', 'v1-stateful/after-delete'],
      facts: [...opened(V25), 'closed session transport_error requests=2', rejected('unknown_session')],
    },
    {
      name: 'the client leaves before the answer (499): the operation is _OTHER',
      steps: ['v1-stateful/initialize', { exchange: sdk('v1-stateful/tools-call-echo'), clientLeaves: true }],
      facts: [...opened(V25), op('tools/call', 'echo', '_OTHER', V25, C1)],
    },
    {
      name: 'the client leaves before a notification is answered (499): nothing',
      steps: ['v1-stateful/initialize', { exchange: sdk('v1-stateful/initialized-notification'), clientLeaves: true }],
      facts: opened(V25),
    },
  ],

  'SDK v1, stateful with an event store (SSE answers start with a priming event)': [
    { name: 'initialize: the priming event is skipped', steps: ['v1-events/initialize'], facts: opened(V1125) },
    { name: 'tools/call echo', steps: ['v1-events/initialize', 'v1-events/tools-call-echo'], facts: [...opened(V1125), op('tools/call', 'echo', '', V1125, C1)] },
    {
      name: 'priming, then progress, then the response',
      steps: ['v1-events/initialize', 'v1-events/tools-call-progress'],
      facts: [...opened(V1125), op('tools/call', 'progress', '', V1125, C1)],
    },
    {
      name: 'a stream that ends before its response (the session was deleted): _OTHER',
      steps: ['v1-events/initialize', 'v1-events/tools-call-cut-by-delete', 'v1-events/delete'],
      facts: [...opened(V1125), op('tools/call', 'sleep', '_OTHER', V1125, C1), 'closed session client_delete requests=3'],
    },
    {
      name: 'a GET stream, then DELETE',
      steps: ['v1-events/initialize', { exchange: sdk('v1-events/get-stream'), open: 'client_leaves' }, 'v1-events/delete'],
      facts: [...opened(V1125), 'closed session client_delete requests=3'],
    },
  ],

  'SDK v1, stateful, JSON responses': [
    { name: 'initialize', steps: ['v1-json/initialize'], facts: opened(V25) },
    { name: 'notifications/initialized (202): nothing', steps: ['v1-json/initialize', 'v1-json/initialized-notification'], facts: opened(V25) },
    { name: 'tools/call echo', steps: ['v1-json/initialize', 'v1-json/tools-call-echo'], facts: [...opened(V25), op('tools/call', 'echo', '', V25, C1)] },
    { name: 'tools/call: isError', steps: ['v1-json/initialize', 'v1-json/tools-call-fail'], facts: [...opened(V25), op('tools/call', 'fail', 'tool_error', V25, C1)] },
    {
      name: 'tools/call of an unknown tool (isError)',
      steps: ['v1-json/initialize', 'v1-json/tools-call-unknown-tool'],
      facts: [...opened(V25), op('tools/call', 'other', 'tool_error', V25, C1)],
    },
    {
      // Today: nothing.
      name: 'a batch of two requests, answered with a JSON array: two operations',
      steps: ['v1-json/initialize', 'v1-json/batch'],
      facts: [...opened(V25), op('ping', '', '', V25, C1), op('tools/call', 'echo', '', V25, C1)],
    },
    {
      name: 'a GET stream, then DELETE',
      steps: ['v1-json/initialize', { exchange: sdk('v1-json/get-stream'), open: 'client_leaves' }, 'v1-json/delete'],
      facts: [...opened(V25), 'closed session client_delete requests=3'],
    },
  ],

  'SDK v1, stateless': [
    { name: 'initialize: the operation only', steps: ['v1-stateless/initialize'], facts: [init(V25)] },
    // Today: version=2026-07-28 (the requested one).
    { name: 'initialize asking a newer revision: the negotiated one', steps: ['v1-stateless/initialize-newer-version'], facts: [init(V1125)] },
    {
      // Today: the call has no client (client=).
      name: 'a later request of the same client is recorded under its name',
      steps: ['v1-stateless/initialize', 'v1-stateless/initialized-notification', 'v1-stateless/tools-call-echo'],
      facts: [init(V25), op('tools/call', 'echo', '', V25, C1)],
    },
    {
      name: "another client's request is not",
      steps: ['v1-stateless/initialize', { exchange: sdk('v1-stateless/tools-call-echo'), from: CLIENT_B }],
      facts: [init(V25), op('tools/call', 'echo', '', V25, NOBODY)],
    },
    {
      // Today: nothing.
      name: 'a batch of two requests: two operations',
      steps: ['v1-stateless/batch'],
      facts: [op('ping', '', '', V25, NOBODY), op('tools/call', 'echo', '', V25, NOBODY)],
    },
    // Today: parse_error (both).
    { name: 'GET (405, no Content-Type)', steps: ['v1-stateless/get'], facts: [rejected('method_not_allowed')] },
    { name: 'DELETE (405, no Content-Type)', steps: ['v1-stateless/delete'], facts: [rejected('method_not_allowed')] },
    // Today: invalid_request.
    { name: 'POST with a wrong Accept (406)', steps: ['v1-stateless/post-wrong-accept'], facts: [rejected('not_acceptable')] },
    { name: 'POST with a wrong Content-Type (415)', steps: ['v1-stateless/post-wrong-content-type'], facts: [rejected('invalid_request')] },
    { name: 'a body that is not JSON (400 -32700)', steps: ['v1-stateless/invalid-json'], facts: [rejected('parse_error')] },
  ],

  "SDK v1, the SDK's example app (Host validation, express.json(), bearer auth)": [
    { name: 'no token (401 with WWW-Authenticate)', steps: ['v1-example-app/no-token'], facts: [rejected('unauthorized')] },
    { name: 'an invalid token (401 with WWW-Authenticate)', steps: ['v1-example-app/invalid-token'], facts: [rejected('unauthorized')] },
    { name: 'insufficient scope (403 with WWW-Authenticate)', steps: ['v1-example-app/insufficient-scope'], facts: [rejected('unauthorized')] },
    // Today: invalid_request.
    { name: 'a foreign Host (403 without WWW-Authenticate)', steps: ['v1-example-app/foreign-host'], facts: [rejected('forbidden_host')] },
    { name: "a body that is not JSON (express's HTML 400)", steps: ['v1-example-app/invalid-json'], facts: [rejected('parse_error')] },
    // Today: parse_error.
    { name: 'GET without a session id (400 text/html)', steps: ['v1-example-app/get-no-session'], facts: [rejected('missing_session')] },
  ],

  'SDK v2, createMcpHandler legacy: stateless': [
    { name: '2025 initialize: the operation only', steps: ['v2-stateless/initialize'], facts: [init(V25)] },
    // Today: version=2099-01-01 (the requested one).
    { name: '2025 initialize asking an unknown revision: the negotiated one', steps: ['v2-stateless/initialize-newer-version'], facts: [init(V1125)] },
    {
      // Today: the call has no client (client=).
      name: 'a later 2025 request of the same client is recorded under its name',
      steps: ['v2-stateless/initialize', 'v2-stateless/initialized-notification', 'v2-stateless/tools-call-echo-2025'],
      facts: [init(V25), op('tools/call', 'echo', '', V25, C1)],
    },
    {
      // Today: nothing.
      name: 'a 2025 batch of two requests: two operations',
      steps: ['v2-stateless/batch-2025'],
      facts: [op('ping', '', '', V25, NOBODY), op('tools/call', 'echo', '', V25, NOBODY)],
    },
    // Today: parse_error (all three).
    { name: '2025 GET (405)', steps: ['v2-stateless/get-2025'], facts: [rejected('method_not_allowed')] },
    { name: '2025 DELETE (405)', steps: ['v2-stateless/delete-2025'], facts: [rejected('method_not_allowed')] },
    { name: '2026-07-28 GET (405)', steps: ['v2-stateless/get-2026'], facts: [rejected('method_not_allowed')] },
    // Today: invalid_request.
    { name: '2025 POST with a wrong Accept (406)', steps: ['v2-stateless/post-wrong-accept-2025'], facts: [rejected('not_acceptable')] },
    { name: 'POST with a wrong Content-Type (415)', steps: ['v2-stateless/post-wrong-content-type'], facts: [rejected('invalid_request')] },
    { name: 'a body that is not JSON (400 -32700)', steps: ['v2-stateless/invalid-json'], facts: [rejected('parse_error')] },
    { name: 'JSON that is not JSON-RPC (400 -32600)', steps: ['v2-stateless/invalid-jsonrpc'], facts: [rejected('invalid_request')] },
    {
      // Today: invalid_request. The rule: any other 4xx on a 2025 request without a session id.
      // A stateless server needs no session: its text does not speak of one, so the refusal is not missing_session.
      name: '2025 request with an unsupported MCP-Protocol-Version header (400 -32000)',
      steps: ['v2-stateless/unsupported-version-header-2025'],
      facts: [rejected('invalid_request')],
    },
    {
      name: '2025 tools/call of an unknown tool (-32602 in SSE)',
      steps: ['v2-stateless/tools-call-unknown-tool-2025'],
      facts: [op('tools/call', 'other', '-32602', V25, NOBODY)],
    },
    { name: 'server/discover', steps: ['v2-stateless/server-discover'], facts: [op('server/discover', '', '', V26, C2)] },
    { name: 'tools/list', steps: ['v2-stateless/tools-list'], facts: [op('tools/list', '', '', V26, C2)] },
    { name: 'tools/call echo', steps: ['v2-stateless/tools-call-echo'], facts: [op('tools/call', 'echo', '', V26, C2)] },
    { name: 'tools/call: isError', steps: ['v2-stateless/tools-call-fail'], facts: [op('tools/call', 'fail', 'tool_error', V26, C2)] },
    { name: 'tools/call: the tool threw (isError)', steps: ['v2-stateless/tools-call-throw'], facts: [op('tools/call', 'throw', 'tool_error', V26, C2)] },
    { name: 'tools/call of an unknown tool (-32602 in a 200)', steps: ['v2-stateless/tools-call-unknown-tool'], facts: [op('tools/call', 'other', '-32602', V26, C2)] },
    // The same client mistake as the SDK v1's 200 -32601: an error that answers the request's own id is its operation's outcome.
    { name: 'an unknown method (the SDK v2 answers 404 -32601)', steps: ['v2-stateless/unknown-method'], facts: [op('other', '', '-32601', V26, C2)] },
    {
      name: 'a progress notification turns the answer into SSE; the response is found',
      steps: ['v2-stateless/tools-call-progress'],
      facts: [op('tools/call', 'progress', '', V26, C2)],
    },
    { name: 'a notification (202): nothing', steps: ['v2-stateless/notification'], facts: [] },
    { name: 'Mcp-Method differs from the body (400 -32020)', steps: ['v2-stateless/header-mismatch'], facts: [rejected('header_mismatch')] },
    { name: 'no MCP-Protocol-Version header (400 -32020)', steps: ['v2-stateless/missing-version-header'], facts: [rejected('header_mismatch')] },
    { name: 'an unsupported revision (400 -32022)', steps: ['v2-stateless/unsupported-version'], facts: [rejected('unsupported_protocol_version')] },
    { name: 'a capability the client did not declare (400 -32021)', steps: ['v2-stateless/missing-capability'], facts: [rejected('missing_capability')] },
    // Today: parse_error (the body is an array).
    { name: 'a 2026-07-28 batch (400 -32600)', steps: ['v2-stateless/batch-2026'], facts: [rejected('invalid_request')] },
    {
      name: 'subscriptions/listen: a subscription while the stream is open, closed when the client leaves',
      steps: [{ exchange: sdk('v2-stateless/listen'), open: 'client_leaves' }],
      facts: [`established subscription streamable_http ${C2} version=${V26}`, 'closed subscription client_delete requests=1'],
    },
    {
      name: 'subscriptions/listen open at shutdown: closed server_shutdown',
      steps: [{ exchange: sdk('v2-stateless/listen'), open: 'shutdown' }],
      facts: [`established subscription streamable_http ${C2} version=${V26}`, 'closed subscription server_shutdown requests=1'],
    },
  ],

  'SDK v2, createMcpHandler legacy: reject': [
    { name: '2025 initialize (400 -32022)', steps: ['v2-reject/initialize-2025'], facts: [rejected('unsupported_protocol_version')] },
    { name: '2025 tools/list without a session id (400 -32022)', steps: ['v2-reject/tools-list-2025'], facts: [rejected('unsupported_protocol_version')] },
    { name: '2025 notification (202): nothing', steps: ['v2-reject/notification-2025'], facts: [] },
    // Today: parse_error (both).
    { name: '2025 GET (405)', steps: ['v2-reject/get-2025'], facts: [rejected('method_not_allowed')] },
    { name: '2025 DELETE (405)', steps: ['v2-reject/delete-2025'], facts: [rejected('method_not_allowed')] },
    { name: 'a body that is not JSON (400 -32700)', steps: ['v2-reject/invalid-json'], facts: [rejected('parse_error')] },
    { name: 'tools/call echo', steps: ['v2-reject/tools-call-echo'], facts: [op('tools/call', 'echo', '', V26, C2)] },
    { name: 'a body over maxRequestBodySize (413)', steps: ['v2-small-body/too-large'], facts: [rejected('payload_too_large')] },
  ],

  'answers no SDK makes (written by hand)': [
    {
      // Today: nothing.
      name: "the proxy's 502 (upstream down) to a 2026-07-28 request: an operation with the body's code, not a rejection",
      steps: [answered('v2-stateless/tools-call-echo', HAND.badGateway)],
      facts: [op('tools/call', 'echo', '-32000', V26, C2)],
    },
    {
      // Today: nothing.
      name: "the proxy's 502 to a request in a session",
      steps: ['v1-stateful/initialize', answered('v1-stateful/tools-call-echo', HAND.badGateway)],
      facts: [...opened(V25), op('tools/call', 'echo', '-32000', V25, C1)],
    },
    { name: "the proxy's 502 to a notification: nothing", steps: [answered('v2-stateless/notification', HAND.badGateway)], facts: [] },
    { name: "the proxy's 502 to a GET: nothing", steps: [answered('v2-stateless/get-2026', HAND.badGateway)], facts: [] },
    {
      // Today: nothing.
      name: 'a 500 with a JSON-RPC error: its code',
      steps: [answered('v2-stateless/tools-list', HAND.internalError)],
      facts: [op('tools/list', '', '-32603', V26, C2)],
    },
    {
      // Today: nothing.
      name: 'a 503 that is not JSON-RPC: _OTHER',
      steps: [answered('v2-stateless/tools-list', HAND.unavailable)],
      facts: [op('tools/list', '', '_OTHER', V26, C2)],
    },
    {
      name: 'the client leaves before the answer (499) of a 2026-07-28 request',
      steps: [{ exchange: sdk('v2-stateless/tools-call-echo'), clientLeaves: true }],
      facts: [op('tools/call', 'echo', '_OTHER', V26, C2)],
    },
    { name: 'the client leaves before a notification is answered (499): nothing', steps: [{ exchange: sdk('v2-stateless/notification'), clientLeaves: true }], facts: [] },
    { name: "a gateway's 401 with WWW-Authenticate", steps: [answered('v2-stateless/tools-list', HAND.unauthorized)], facts: [rejected('unauthorized')] },
    // Today: invalid_request.
    { name: 'a 403 without WWW-Authenticate', steps: [answered('v2-stateless/tools-list', HAND.forbidden)], facts: [rejected('forbidden_host')] },
    { name: "nginx's 413", steps: [answered('v2-stateless/tools-list', HAND.tooLarge)], facts: [rejected('payload_too_large')] },
    { name: 'a 200 text/plain answer to a request: _OTHER', steps: [answered('v2-stateless/tools-list', HAND.plainText)], facts: [op('tools/list', '', '_OTHER', V26, C2)] },
    {
      name: 'a 200 text/plain answer in a session: _OTHER',
      steps: ['v1-stateful/initialize', answered('v1-stateful/tools-list', HAND.plainText)],
      facts: [...opened(V25), op('tools/list', '', '_OTHER', V25, C1)],
    },
    { name: "a JSON answer with another request's id: _OTHER", steps: [answered('v2-stateless/tools-list', HAND.otherId)], facts: [op('tools/list', '', '_OTHER', V26, C2)] },
  ],
};

// ---------------------------------------------------------------- running a row

const clientOf = (facts: ClientFacts): string => `client=${facts.clientName || facts.clientVersion ? `${facts.clientName}@${facts.clientVersion}` : ''}`;

/** The tools the demo servers offer (and the capture's two extra ones), as a tools/list would have taught the catalog. */
const OFFERED = [...DEMO_TOOLS.map((tool) => ({ name: tool.name })), { name: 'progress' }, { name: 'confirm' }];

function setUp(): { monitor: HttpExchangeMonitor; facts: string[] } {
  const tracker = new SessionTracker();
  tracker.tools.offer(OFFERED);
  const facts: string[] = [];
  tracker.subscribe({
    onOperation: (o) => facts.push(`operation ${o.method}${o.toolName ? ` ${o.toolName}` : ''} error=${o.errorType} version=${o.protocolVersion} ${clientOf(o.client)}`),
    onRequestRejected: (reason) => facts.push(`rejected ${reason}`),
    onConnectionEstablished: (c) => facts.push(`established ${c.kind} ${c.transport} ${clientOf(c)} version=${c.protocolVersion}`),
    onConnectionClosed: (_id, _ms, c) => facts.push(`closed ${c.kind} ${c.reason} requests=${c.requestCount}`),
  });
  // No idle reaper: rows run in microseconds.
  return { monitor: new HttpExchangeMonitor({ tracker, sessionIdleTimeoutMs: 0 }), facts };
}

/** The canned answer as the handler's Response; `open`: its frames, then a stream that stays open until cancelled. */
function cannedResponse(answer: CapturedAnswer, open: boolean): Response {
  const headers = new Headers();
  if (answer.contentType !== null) headers.set('content-type', answer.contentType);
  if (answer.sessionId !== null) headers.set('mcp-session-id', answer.sessionId);
  for (const [name, value] of Object.entries(answer.headers ?? {})) headers.set(name, value);
  const bytes = new TextEncoder().encode(answer.body);
  let body: ReadableStream<Uint8Array> | string | null = answer.body === '' ? null : answer.body;
  if (open) {
    body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        if (bytes.length > 0) controller.enqueue(bytes);
      },
    });
  }
  return new Response(body, { status: answer.status, headers });
}

async function runStep(monitor: HttpExchangeMonitor, step: Step): Promise<void> {
  const { request, answer } = step.exchange;
  const controller = new AbortController();
  const web = new Request(`http://127.0.0.1${request.path}`, { method: request.method, headers: request.headers, body: request.body, signal: controller.signal });
  const serve = async (): Promise<Response> => {
    if (step.clientLeaves) {
      controller.abort();
      return new Response(null, { status: 499 });
    }
    return cannedResponse(answer, step.open !== undefined);
  };
  const response = await monitor.exchange(web, step.from ?? CLIENT_A, undefined, serve);
  if (step.open === undefined) {
    await response.text();
    return;
  }
  // A stream that stays open: its frames pass, then the client leaves or the monitor shuts down.
  const reader = response.body!.getReader();
  const expected = new TextEncoder().encode(answer.body).length;
  let received = 0;
  while (received < expected) {
    const { done, value } = await reader.read();
    if (done) throw new Error('the open stream ended');
    received += value.length;
  }
  if (step.open === 'client_leaves') {
    await reader.cancel();
    return;
  }
  const pending = reader.read();
  await monitor.closeAll(0);
  await pending;
}

const asStep = (step: string | Exchange | Step): Step => (typeof step === 'string' ? { exchange: sdk(step) } : 'request' in step ? { exchange: step } : step);

for (const [group, rows] of Object.entries(ROWS)) {
  describe(group, () => {
    for (const { name, steps, facts } of rows) {
      it(name, async () => {
        const { monitor, facts: heard } = setUp();
        for (const step of steps) await runStep(monitor, asStep(step));
        expect(heard).toEqual(facts);
      });
    }
  });
}
