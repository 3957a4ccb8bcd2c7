import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { sessionRef } from '../core/session-ref.js';
import type { Logger } from '../core/logger.js';
import type { ConnectableServer, ServerFactory } from '../sdk-v1/session-table.js';
import { JSONRPC, jsonRpcError } from '../transport/http-answers.js';

export interface StdioCommand {
  command: string;
  args: readonly string[];
  /** Extra environment for the child, beside the SDK's safe default set. @default none */
  env?: Readonly<Record<string, string>>;
}

type Message = { id?: RequestId; method?: string; params?: { _meta?: { progressToken?: string | number }; progressToken?: string | number } };

/** Where an upstream reports: one log line, at info unless it says otherwise. */
export type UpstreamLog = (fields: object, message: string, level?: 'info' | 'warn') => void;

/** Starts the upstream side of one session: a child process, or a client of an HTTP server. */
type UpstreamFactory = (log: UpstreamLog) => Transport;

/**
 * One upstream per session, relaying every message both ways: requests, responses,
 * notifications and the server's own requests (sampling, elicitation). It is a server
 * factory like any other: the session host, tracker and metrics do not know what is behind it.
 */
class RelayBridge implements ConnectableServer {
  private front: Transport | undefined;
  private child: Transport | undefined;
  /** Client requests the child has not answered, to route its messages to the right stream. */
  private readonly open = new Set<RequestId>();
  private readonly progress = new Map<string | number, RequestId>();

  constructor(
    private readonly upstream: UpstreamFactory,
    private readonly logger: Logger,
  ) {}

  async connect(front: Transport): Promise<void> {
    this.front = front;
    const ref = (): string => (front.sessionId ? sessionRef(front.sessionId) : 'starting');
    const child = this.upstream((fields, message, level = 'info') => this.logger[level]({ ...fields, session: ref() }, message));
    this.child = child;
    child.onmessage = (message) => this.toClient(message);
    child.onerror = (error) => this.logger.debug({ session: ref(), err: error.message }, 'stdio transport reported an error');
    // The child ended on its own: its open calls get an error, and the session ends with it
    // (a close nobody asked for: transport_error).
    child.onclose = () => void this.failOpen('The MCP server behind the proxy exited').then(() => front.close());

    front.onmessage = (message) => {
      const m = message as Message;
      if (m.method !== undefined && m.id !== undefined) {
        this.open.add(m.id);
        const token = m.params?._meta?.progressToken;
        if (token !== undefined) this.progress.set(token, m.id);
      }
      child.send(message).catch((error: unknown) => {
        // The upstream cannot take messages (process gone, server down, session ended there): end the session.
        this.logger.warn({ session: ref(), err: error instanceof Error ? error.message : String(error) }, 'relaying to the upstream failed; closing the session');
        void this.failOpen('The MCP server behind the proxy cannot be reached').then(() => front.close());
      });
    };
    const hostOnClose = front.onclose;
    front.onclose = () => {
      hostOnClose?.();
      void this.endUpstream();
    };
    await child.start();
    await front.start();
  }

  async close(): Promise<void> {
    await this.front?.close();
    await this.endUpstream();
  }

  /** Answers every call the upstream left open with a JSON-RPC error, so clients do not wait for their timeouts. */
  private async failOpen(message: string): Promise<void> {
    const front = this.front;
    const ids = [...this.open];
    this.open.clear();
    this.progress.clear();
    if (!front) return;
    await Promise.all(ids.map((id) => front.send(jsonRpcError(id, JSONRPC.serverError, message)).catch(() => {})));
  }

  /** An HTTP upstream is told the session is over (DELETE); a child process is ended. */
  private async endUpstream(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child instanceof StreamableHTTPClientTransport && child.sessionId !== undefined) {
      await child.terminateSession().catch(() => {});
    }
    await child.close();
  }

  private toClient(message: JSONRPCMessage): void {
    const front = this.front;
    if (!front) return;
    const m = message as Message;
    let relatedRequestId: RequestId | undefined;
    if (m.method === undefined && m.id !== undefined) {
      // A response: it names its request.
      this.open.delete(m.id);
      for (const [token, id] of this.progress) if (id === m.id) this.progress.delete(token);
    } else if (m.method === 'notifications/progress' && m.params?.progressToken !== undefined) {
      relatedRequestId = this.progress.get(m.params.progressToken);
    } else if (this.open.size === 1) {
      // A server request or notification during exactly one open call belongs to that call's stream.
      relatedRequestId = this.open.values().next().value;
    }
    front.send(message, relatedRequestId === undefined ? undefined : { relatedRequestId }).catch((error: unknown) => {
      this.logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'relaying to the client failed');
    });
  }
}

/** A transport to `spec` started as a child process; each line it writes to stderr goes to `log`. */
export function stdioTransport(spec: StdioCommand, log: UpstreamLog): Transport {
  const child = new WatchedChild(spec, log);
  child.stderr?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      child.remember(line.slice(0, 2000));
      log({ event: 'upstream_stderr', line: line.slice(0, 2000) }, 'stdio server wrote to stderr');
    }
  });
  return child;
}

/** Lines of stderr an exit line repeats. */
const STDERR_TAIL = 5;

/**
 * The SDK's stdio client transport, plus one log line when the child cannot start or exits
 * on its own: its exit code or signal and the last lines of its stderr (never its environment).
 */
class WatchedChild extends StdioClientTransport {
  private readonly tail: string[] = [];
  private closing = false;

  constructor(
    private readonly spec: StdioCommand,
    private readonly log: UpstreamLog,
  ) {
    super({ command: spec.command, args: [...spec.args], env: { ...getDefaultEnvironment(), ...spec.env }, stderr: 'pipe' });
  }

  remember(line: string): void {
    this.tail.push(line);
    if (this.tail.length > STDERR_TAIL) this.tail.shift();
  }

  override async start(): Promise<void> {
    try {
      await super.start();
    } catch (error) {
      const reason = (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));
      this.log({ event: 'upstream_exit', command: this.spec.command, started: false, reason }, `the stdio server (${this.spec.command}) could not start: ${reason}`, 'warn');
      throw error;
    }
    // The SDK keeps the child process to itself; its exit code is only on the process.
    const child = (this as unknown as { _process?: import('node:child_process').ChildProcess })._process;
    child?.once('exit', (code, signal) => {
      if (this.closing) return;
      // stderr may still hold its last lines: let them arrive first.
      setImmediate(() =>
        this.log(
          { event: 'upstream_exit', command: this.spec.command, code, signal, stderr: [...this.tail] },
          `the stdio server (${this.spec.command}) exited with ${signal ?? `code ${String(code)}`}`,
          'warn',
        ),
      );
    });
  }

  override async close(): Promise<void> {
    this.closing = true;
    await super.close();
  }
}

/** A server factory that starts `spec` as a child process per session; its stderr is logged with the session's reference. */
export function stdioServerFactory(spec: StdioCommand, logger: Logger): ServerFactory {
  return () => new RelayBridge((log) => stdioTransport(spec, log), logger);
}

/**
 * A server factory that opens one session on a Streamable HTTP MCP server per client
 * session: the upstream's session id stays with the upstream client, so ids are mapped
 * by construction, and its GET stream carries the upstream's own messages.
 */
export function httpUpstreamFactory(url: URL, logger: Logger, headers?: Readonly<Record<string, string>>): ServerFactory {
  const requestInit = headers ? { headers: { ...headers } } : undefined;
  return () => new RelayBridge(() => new StreamableHTTPClientTransport(url, requestInit ? { requestInit } : undefined), logger);
}

/** Splits a command line into words, honouring single and double quotes. Throws on an unclosed quote. */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: '"' | "'" | undefined;
  let started = false;
  for (const char of line) {
    if (quote) {
      if (char === quote) quote = undefined;
      else word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (/\s/.test(char)) {
      if (started) words.push(word);
      word = '';
      started = false;
    } else {
      word += char;
      started = true;
    }
  }
  if (quote) throw new RangeError(`unclosed ${quote} quote`);
  if (started) words.push(word);
  return words;
}
