import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { sessionRef } from '../core/log-monitor.js';
import type { Logger } from '../core/logger.js';
import type { ConnectableServer, ServerFactory } from '../transport/session-table.js';

export interface StdioCommand {
  command: string;
  args: readonly string[];
  /** Extra environment for the child, beside the SDK's safe default set. @default none */
  env?: Readonly<Record<string, string>>;
}

type Message = { id?: RequestId; method?: string; params?: { _meta?: { progressToken?: string | number }; progressToken?: string | number } };

/**
 * One stdio MCP server process per session, relaying every message both ways: requests,
 * responses, notifications and the server's own requests (sampling, elicitation). Stdio
 * servers serve one client each, so this is a server factory like any other: the session
 * host, tracker and metrics do not know a child process is behind it.
 */
class StdioBridge implements ConnectableServer {
  private front: Transport | undefined;
  private child: StdioClientTransport | undefined;
  /** Client requests the child has not answered, to route its messages to the right stream. */
  private readonly open = new Set<RequestId>();
  private readonly progress = new Map<string | number, RequestId>();

  constructor(
    private readonly spec: StdioCommand,
    private readonly logger: Logger,
  ) {}

  async connect(front: Transport): Promise<void> {
    this.front = front;
    const child = new StdioClientTransport({
      command: this.spec.command,
      args: [...this.spec.args],
      env: { ...getDefaultEnvironment(), ...this.spec.env },
      stderr: 'pipe',
    });
    this.child = child;
    const ref = (): string => (front.sessionId ? sessionRef(front.sessionId) : 'starting');
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') this.logger.info({ event: 'upstream_stderr', session: ref(), line: line.slice(0, 2000) }, 'stdio server wrote to stderr');
      }
    });
    child.onmessage = (message) => this.toClient(message);
    child.onerror = (error) => this.logger.debug({ session: ref(), err: error.message }, 'stdio transport reported an error');
    // The child ended on its own: the session ends with it (a close nobody asked for: transport_error).
    child.onclose = () => void front.close();

    front.onmessage = (message) => {
      const m = message as Message;
      if (m.method !== undefined && m.id !== undefined) {
        this.open.add(m.id);
        const token = m.params?._meta?.progressToken;
        if (token !== undefined) this.progress.set(token, m.id);
      }
      child.send(message).catch((error: unknown) => {
        this.logger.debug({ session: ref(), err: error instanceof Error ? error.message : String(error) }, 'relaying to the stdio server failed');
      });
    };
    const hostOnClose = front.onclose;
    front.onclose = () => {
      hostOnClose?.();
      void child.close();
    };
    await child.start();
    await front.start();
  }

  async close(): Promise<void> {
    await this.front?.close();
    await this.child?.close();
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

/** A server factory that starts `spec` per session. */
export function stdioServerFactory(spec: StdioCommand, logger: Logger): ServerFactory {
  return () => new StdioBridge(spec, logger);
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
