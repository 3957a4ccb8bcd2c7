import type { ServerResponse } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { Slotted } from '../core/slot-list.js';
import type { ClientAnswer } from '../http/front-door.js';
import { jsonRpcErrorText, SHUTTING_DOWN } from '../transport/http-answers.js';
import { CLIENT_GONE, jsonHead, type AnswerHead, type BodyWatch } from '../wire/exchange.js';
import type { ResponseHead } from './http1-response.js';
import type { ExchangeListener, UpstreamExchange } from './upstream-pool.js';
import { failureOf, meansDown, type UpstreamWatch } from './upstream-watch.js';

/**
 * How long an event stream's head that came alone waits for its first bytes, so that both go
 * to the client in one write. An MCP server sends a stream's head as soon as it has one (the
 * SDK's flushHeaders) and its event a moment later: read apart, sent apart, they cost the
 * proxy a second write and its client a second wake-up on most calls. A stream that stays
 * quiet longer gets its head this much later than it would have.
 */
const HEAD_WAIT_MS = 1;

/** Response headers (lower case) of one hop, when the body's bytes pass unchanged: a switch, as notForwarded in http-upstream.ts. */
function hopByHop(name: string): boolean {
  switch (name) {
    case 'connection':
    case 'keep-alive':
    case 'transfer-encoding':
    case 'trailer':
    case 'upgrade':
    case 'proxy-authenticate':
      return true;
    default:
      return false;
  }
}

/** A ClientAnswer on node:http's response. */
export class NodeAnswer implements ClientAnswer {
  constructor(private readonly res: ServerResponse) {}

  writeHead(status: number, reason: string, headers: string[]): void {
    this.res.writeHead(status, reason, headers);
  }

  json(status: number, text: string): void {
    this.res.writeHead(status, { 'content-type': 'application/json' });
    this.res.end(text);
  }

  write(chunk: Buffer): boolean {
    // node:http may hold the bytes until the socket takes them; the chunk's buffer is reused.
    return this.res.write(Buffer.from(chunk));
  }

  flush(): void {
    // node:http writes each chunk as it comes.
  }

  flushHeaders(): void {
    this.res.flushHeaders();
  }

  end(text?: string): void {
    if (text === undefined) this.res.end();
    else this.res.end(text);
  }

  destroy(): void {
    this.res.destroy();
  }

  onClose(listener: () => void): void {
    this.res.once('close', () => {
      if (!this.res.writableFinished) listener();
    });
  }

  onDrain(listener: () => void): void {
    this.res.once('drain', listener);
  }

  get finished(): boolean {
    return this.res.writableFinished;
  }
}

/** What an exchange needs of the proxy around it. */
export interface RelayContext {
  /** Told what the exchange found of the upstream. */
  readonly watch: UpstreamWatch | undefined;
  /** The JSON-RPC error text of a 502: the upstream and why it did not answer. */
  unreachable(error: unknown): string;
  /** The exchange is over. */
  done(exchange: RelayedExchange): void;
}

/**
 * One request relayed to the upstream and its answer back to the client: the answer's
 * status, headers (less those of one hop) and bytes pass unchanged, with back-pressure both
 * ways, and the monitor's watch hears the body as it passes. One object for the whole
 * exchange, its methods the listener the connection calls: it is alive while the answer is
 * awaited, so everything it holds lives through collections.
 */
export class RelayedExchange implements ExchangeListener, Slotted {
  /** Its place among the exchanges being relayed (see SlotList). */
  slot = -1;
  private upstream: UpstreamExchange | undefined;
  private watch: BodyWatch | undefined;
  /** The monitor has the answer's head (or CLIENT_GONE). */
  private heard = false;
  private over = false;
  private streaming = false;
  /** The head is written but not sent: an event stream's goes with its first bytes, or HEAD_WAIT_MS after the read that brought it alone. */
  private unsent = false;
  private headTimer: NodeJS.Timeout | undefined;
  /** Decodes a chunk cut inside a character; made when one is. */
  private decoder: StringDecoder | undefined;
  /** The body so far, when the watch wants it whole. */
  private parts: Buffer[] | undefined;
  private readonly resume = (): void => this.upstream?.resume();

  constructor(
    private readonly context: RelayContext,
    private readonly res: ClientAnswer,
    private readonly answered: (head: AnswerHead) => BodyWatch | undefined,
    /** The id of the one request being answered, for its error at shutdown. */
    private readonly id: string | number | undefined,
    /** The exchange is over. */
    private readonly done: () => void,
  ) {
    res.onClose(() => this.clientClosed());
  }

  /** Set once the request is on its way. */
  sending(upstream: UpstreamExchange): void {
    this.upstream = upstream;
  }

  head(answer: ResponseHead): void {
    if (this.over) return this.upstream?.cancel();
    const status = answer.status;
    try {
      this.res.writeHead(status, answer.reason, returnedHeaders(answer));
    } catch (error) {
      // A header node:http will not send (a control character in it): nothing was relayed yet.
      this.upstream?.cancel();
      this.unreachable(error);
      return;
    }
    this.heard = true;
    if (status >= 500) this.context.watch?.failed('server_error', meansDown(status));
    else this.context.watch?.answered();
    const watch = this.answered({ status, header: (name) => answer.header(name) });
    this.watch = watch;
    this.streaming = answer.header('content-type')?.startsWith('text/event-stream') === true;
    this.unsent = this.streaming;
    if (watch === undefined) return;
    watch.hold?.(() => this.upstream?.cancel());
    if (watch.whole) this.parts = [];
  }

  body(chunk: Buffer): void {
    if (this.over) return;
    this.unsent = false;
    if (this.headTimer !== undefined) this.stopWaiting();
    const watch = this.watch;
    if (watch?.chunk) watch.chunk(this.text(chunk));
    // The chunk is a view into the connection's read buffer: a copy is kept.
    this.parts?.push(Buffer.from(chunk));
    if (!this.res.write(chunk)) {
      this.upstream?.pause();
      this.res.onDrain(this.resume);
    }
  }

  /** A read from the upstream is handled: what it brought goes to the client now, in one write (an event stream's head alone, HEAD_WAIT_MS later). */
  read(): void {
    if (this.unsent && !this.over && this.headTimer === undefined) this.headTimer = setTimeout(sendHead, HEAD_WAIT_MS, this);
    this.res.flush();
  }

  /** The head waited for bytes that did not come: it goes alone. */
  headAlone(): void {
    this.headTimer = undefined;
    if (!this.unsent || this.over) return;
    this.unsent = false;
    this.res.flushHeaders();
  }

  end(): void {
    if (this.over) return;
    const parts = this.parts;
    if (parts) this.watch?.whole?.(parts.length === 1 ? (parts[0] as Buffer).toString('utf8') : Buffer.concat(parts).toString('utf8'));
    this.res.end();
    this.finish();
  }

  fail(error: Error): void {
    if (this.over) return;
    if (!this.heard) return this.unreachable(error);
    // Failed mid-answer: the client sees the connection end as the upstream's did.
    this.context.watch?.failed('connection_reset', false);
    this.res.destroy();
    this.finish();
  }

  /**
   * At shutdown: a request still waiting for its answer gets a JSON-RPC error (in its SSE
   * stream when the upstream opened one, else as the answer); a stream without one just ends.
   */
  shutDown(): void {
    if (this.over) return;
    const { res, id } = this;
    const error = id === undefined ? undefined : jsonRpcErrorText(id, SHUTTING_DOWN.code, SHUTTING_DOWN.message);
    if (!this.heard) {
      // The JSON-RPC error is the answer: a JSON body, as a server may answer any POST.
      this.heard = true;
      const status = error === undefined ? 503 : 200;
      this.watch = this.answered(jsonHead(status));
      this.watch?.whole?.(error ?? '');
      res.json(status, error ?? '');
    } else if (this.streaming) {
      const frame = error === undefined ? '' : `event: message\ndata: ${error}\n\n`;
      if (frame !== '') this.watch?.chunk?.(frame);
      res.end(frame);
    } else res.destroy();
    this.upstream?.cancel();
    this.finish();
  }

  /** The client left first: stop asking upstream, and say so to the monitor. */
  private clientClosed(): void {
    if (this.res.finished || this.over) return;
    this.upstream?.cancel();
    if (!this.heard) {
      this.heard = true;
      this.answered(CLIENT_GONE);
    } else this.watch?.cancel?.();
    this.finish();
  }

  /** The answer could not be had: a 502 with a JSON-RPC error that says why. */
  private unreachable(error: unknown): void {
    this.heard = true;
    this.context.watch?.failed(failureOf(error), true);
    const failed = this.context.unreachable(error);
    this.watch = this.answered(jsonHead(502));
    this.watch?.whole?.(failed);
    this.res.json(502, failed);
    this.finish();
  }

  private stopWaiting(): void {
    clearTimeout(this.headTimer);
    this.headTimer = undefined;
  }

  private finish(): void {
    if (this.over) return;
    this.over = true;
    if (this.headTimer !== undefined) this.stopWaiting();
    this.context.done(this);
    this.watch?.end?.();
    this.done();
  }

  /** A chunk as text: whole when it ends on a character's boundary (a frame's end always does), else through a decoder that keeps the cut character. */
  private text(chunk: Buffer): string {
    if (this.decoder === undefined) {
      const last = chunk.length === 0 ? 0 : (chunk[chunk.length - 1] as number);
      if (last < 0x80) return chunk.toString('utf8');
      this.decoder = new StringDecoder('utf8');
    }
    return this.decoder.write(chunk);
  }
}

/** The answer's headers less those of one hop, as received: name, value, ... */
function returnedHeaders(head: ResponseHead): string[] {
  const { raw, names } = head;
  const out: string[] = [];
  for (let i = 0; i < names.length; i++) if (!hopByHop(names[i] as string)) out.push(raw[2 * i] as string, raw[2 * i + 1] as string);
  return out;
}

function sendHead(exchange: RelayedExchange): void {
  exchange.headAlone();
}
