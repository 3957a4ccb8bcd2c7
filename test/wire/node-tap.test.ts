import { Agent, createServer, request, ServerResponse, type RequestListener, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnswerHead, BodyWatch } from '../../src/wire/exchange.js';
import { tapResponse } from '../../src/wire/node-tap.js';
import { countWrites } from '../helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** A server on port 0 with `handler`, closed after the test; resolves with it and its URL (ending in /). */
async function serve(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/** A server whose handler `answer` writes each response, tapped with `watch`; resolves with its URL. */
async function tapped(answer: (res: ServerResponse) => void, watch: (res: ServerResponse) => (head: AnswerHead) => BodyWatch | undefined): Promise<string> {
  const { url } = await serve((req, res) => {
    tapResponse(res, req.socket, watch(res));
    answer(res);
  });
  return url;
}

const get = (url: string, agent?: Agent): Promise<string> =>
  new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(text));
    })
      .on('error', reject)
      .end();
  });

/** The writes of the server made last (see countWrites). */
const writesOfLast = (): (() => number) => countWrites(servers[servers.length - 1] as Server);

const SSE = { 'content-type': 'text/event-stream' };
const watchNothing = () => () => undefined;

describe('tapResponse', () => {
  it('sends a head flushed before its body with the body, when the body follows within the turn (one write)', async () => {
    const url = await tapped((res) => {
      res.writeHead(200, SSE);
      res.flushHeaders();
      // The body comes a few promise turns later, as the SDK's adapter writes it.
      void Promise.resolve()
        .then(() => undefined)
        .then(() => {
          res.write('data: {}\n\n');
          res.end();
        });
    }, watchNothing);
    const writes = writesOfLast();
    expect([await get(url), writes()]).toEqual(['data: {}\n\n', 1]);
  });

  it('sends a flushed head alone by the next turn when the body is not there yet: the client knows it is answered', async () => {
    let speak = (): void => {};
    const url = await tapped((res) => {
      res.writeHead(200, SSE);
      res.flushHeaders();
      speak = () => res.end('data: late\n\n');
    }, watchNothing);
    const writes = writesOfLast();
    const body = await new Promise<string>((resolve, reject) => {
      request(url, (res) => {
        // The head has arrived while the body has not been written.
        expect([res.statusCode, res.headers['content-type'], writes()]).toEqual([200, 'text/event-stream', 1]);
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(text));
        speak();
      })
        .on('error', reject)
        .end();
    });
    expect([body, writes()]).toEqual(['data: late\n\n', 2]);
  });

  it('flushes at once a head that writeHead has not made (headersSent stays as the handler expects)', async () => {
    const seen: unknown[] = [];
    const url = await tapped((res) => {
      res.statusCode = 200;
      res.flushHeaders();
      seen.push(res.headersSent);
      setImmediate(() => res.end('x'));
    }, watchNothing);
    expect(await get(url)).toBe('x');
    expect(seen).toEqual([true]);
  });

  it('gives the head, every chunk as text, and the end; the handler writes unchanged', async () => {
    const seen: string[] = [];
    const url = await tapped(
      (res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: message\ndata: {"a":1}\n\n');
        res.write(Buffer.from('data: é\n\n'));
        res.end();
      },
      () => (head) => {
        seen.push(`head ${head.status} ${head.header('content-type') ?? ''}`);
        return { chunk: (text) => void seen.push(`chunk ${JSON.stringify(text)}`), end: () => void seen.push('end') };
      },
    );
    expect(await get(url)).toBe('event: message\ndata: {"a":1}\n\ndata: é\n\n');
    expect(seen).toEqual(['head 200 text/event-stream', 'chunk "event: message\\ndata: {\\"a\\":1}\\n\\n"', 'chunk "data: é\\n\\n"', 'end']);
  });

  it('still watches a response whose prototype changes after it was tapped, either way (node:http in front of an express app, and back)', async () => {
    const seen: string[] = [];
    // What express does to each response: its app's prototype, itself made from node:http's.
    const appResponse = Object.create(ServerResponse.prototype) as object;
    const { url } = await serve((req, res) => {
      const first = req.url === '/plain-first';
      if (!first) Object.setPrototypeOf(res, appResponse);
      tapResponse(res, req.socket, (head) => {
        seen.push(`${req.url} head ${head.status}`);
        return { whole: (text) => void seen.push(`${req.url} whole ${text}`) };
      });
      Object.setPrototypeOf(res, first ? appResponse : ServerResponse.prototype);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    expect(await get(`${url}plain-first`)).toBe('{"ok":true}');
    expect(await get(`${url}app-first`)).toBe('{"ok":true}');
    expect(seen).toEqual(['/plain-first head 200', '/plain-first whole {"ok":true}', '/app-first head 200', '/app-first whole {"ok":true}']);
  });

  it('lets go of the exchange once the answer is over, while the response itself is still held', async () => {
    // What the watch holds for one exchange (in the monitor: the request, its body, the pending operations).
    let exchange: WeakRef<object> | undefined;
    let kept: ServerResponse | undefined;
    const ended = new Promise<void>((resolve) => {
      void tapped(
        (res) => res.end('{}'),
        (res) => {
          kept = res;
          const held = { body: 'x'.repeat(1000) };
          exchange = new WeakRef(held);
          return () => ({ whole: () => void held.body.length, end: resolve });
        },
      ).then(get);
    });
    await ended;
    // Let the response's own bookkeeping finish, then collect: the response stays reachable (kept).
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(kept).toBeDefined();
    expect(exchange?.deref()).toBeUndefined();
  });

  it('writes no method onto a response it taps (an own method per response costs every express request new hidden classes), and no key a handler sees', async () => {
    let owned: string[] = [];
    let keys: string[][] = [];
    const { url } = await serve((req, res) => {
      const before = Object.keys(res);
      tapResponse(res, req.socket, () => undefined);
      owned = ['writeHead', 'write', 'end'].filter((name) => Object.hasOwn(res, name));
      keys = [before, Object.keys(res)];
      res.end('{}');
    });
    await get(url);
    expect(owned).toEqual([]);
    expect(keys[1]).toEqual(keys[0]);
  });

  it('taps a response whose methods somebody wrapped first outside their wrapper, seeing what the handler wrote', async () => {
    const seen: string[] = [];
    const { url } = await serve((req, res) => {
      // A compression-like middleware: its own write and end turn the text upper case on the way out.
      const { write, end } = res;
      res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
        return (write as (...args: unknown[]) => boolean).call(this, String(chunk).toUpperCase(), ...rest);
      } as typeof res.write;
      res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
        return (end as (...args: unknown[]) => typeof res).call(this, chunk === undefined ? chunk : String(chunk).toUpperCase(), ...rest);
      } as typeof res.end;
      tapResponse(res, req.socket, () => ({ chunk: (text) => void seen.push(text), end: () => void seen.push('end') }));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"a":1}\n\n');
      res.end();
    });
    expect(await get(url)).toBe('DATA: {"A":1}\n\n');
    expect(seen).toEqual(['data: {"a":1}\n\n', 'end']);
  });

  it('ends the answers a connection still carries when it closes, and none that ended already', async () => {
    const seen: string[] = [];
    const waiting = new Map<string, () => void>();
    const report = (entry: string): void => {
      seen.push(entry);
      waiting.get(entry)?.();
    };
    const reported = (entry: string): Promise<void> => (seen.includes(entry) ? Promise.resolve() : new Promise((resolve) => waiting.set(entry, resolve)));
    const { server, url } = await serve((req, res) => {
      const path = (req.url ?? '').slice(1);
      tapResponse(res, req.socket, (head) => {
        report(`${path}: head ${head.status}`);
        return head.status === 499 ? undefined : { chunk: () => undefined, cancel: () => report(`${path}: cancel`), end: () => report(`${path}: end`) };
      });
      if (path === 'done') return void res.end('{}');
      if (path === 'stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {}\n\n');
      }
      // 'silent': the handler never answers.
    });
    const connections: Socket[] = [];
    server.on('connection', (socket: Socket) => void connections.push(socket));

    // Two answers that end, on one kept connection; then that connection closes: nothing more.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 2; i++) await get(`${url}done`, agent);
    expect(connections).toHaveLength(1);
    const keptClosed = new Promise((resolve) => (connections[0] as Socket).once('close', resolve));
    agent.destroy();
    await keptClosed;
    expect(seen).toEqual(['done: head 200', 'done: end', 'done: head 200', 'done: end']);

    // A stream cut mid-way, and a request its handler leaves unanswered, each on a connection of its own.
    const stream = request(`${url}stream`).on('error', () => undefined);
    stream.on('response', (res) => res.once('data', () => stream.destroy()));
    stream.end();
    await reported('stream: end');
    const silent = request(`${url}silent`).on('error', () => undefined);
    silent.end();
    await new Promise<void>((resolve) => server.once('request', () => setImmediate(resolve)));
    silent.destroy();
    await reported('silent: head 499');
    expect(seen.slice(4)).toEqual(['stream: head 200', 'stream: cancel', 'stream: end', 'silent: head 499']);
  });

  it('ends at once an answer tapped after its client left (nothing will answer it)', async () => {
    const heads: number[] = [];
    let tapped!: () => void;
    const done = new Promise<void>((resolve) => (tapped = resolve));
    const { server, url } = await serve((req, res) => {
      // The monitor comes to the request only after its client has gone (a slow body read, say).
      req.socket.once('close', () => {
        tapResponse(res, req.socket, (head) => {
          heads.push(head.status);
          return undefined;
        });
        tapped();
      });
    });
    const client = request(url).on('error', () => undefined);
    client.end();
    await new Promise<void>((resolve) => server.once('request', () => resolve()));
    client.destroy();
    await done;
    expect(heads).toEqual([499]);
  });
});
