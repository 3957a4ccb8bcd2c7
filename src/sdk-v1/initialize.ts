import type { IncomingMessage } from 'node:http';
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { boundedText, MAX_USER_AGENT_LENGTH } from '../core/bounded-text.js';
import type { SessionStart } from '../core/session-tracker.js';

export interface InitializeParams {
  protocolVersion?: unknown;
  clientInfo?: { name?: unknown; version?: unknown };
}

const asString = (value: unknown): string => (typeof value === 'string' ? value : '');

/** The params of `body` when it is an initialize request (cheaply: the SDK validates it fully), else undefined. */
export function initializeParams(body: unknown): InitializeParams | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const message = body as { method?: unknown; params?: unknown; id?: unknown };
  // Without an id it is a notification: the SDK would start a session whose id no client ever receives.
  if (message.method !== 'initialize' || (typeof message.id !== 'string' && typeof message.id !== 'number')) return undefined;
  return typeof message.params === 'object' && message.params !== null ? (message.params as InitializeParams) : {};
}

/** What the tracker records about a new session, from its initialize request and HTTP request. */
export function sessionFacts(req: IncomingMessage, init: InitializeParams, clientIP: string): Omit<SessionStart, 'id' | 'transport'> {
  const requested = asString(init.protocolVersion);
  return {
    clientIP,
    userAgent: boundedText(req.headers['user-agent'], MAX_USER_AGENT_LENGTH),
    // Client-chosen and kept for the session's life: bounded, and copied off the request body.
    clientName: boundedText(init.clientInfo?.name),
    clientVersion: boundedText(init.clientInfo?.version),
    // The version the SDK will answer with: the client's when supported, else the latest.
    protocolVersion: SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION,
  };
}
