import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readJsonBody } from '../../src/transport/read-body.js';

type Read = Awaited<ReturnType<typeof readJsonBody>>;

const servers: ReturnType<typeof createServer>[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/**
 * A server that reads each request with readJsonBody (cap `maxBytes`) and answers 204; the
 * test gets each read, the refusals counted, and every chunk as it arrives (`onChunk`).
 */
async function reader(maxBytes: number, onChunk: (chunk: Buffer) => void = () => {}) {
  const refused: string[] = [];
  const reads: Read[] = [];
  const waiting: ((read: Read) => void)[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.on('data', onChunk);
    void readJsonBody(req, res, maxBytes, { reject: (reason) => void refused.push(reason) }).then((read) => {
      const next = waiting.shift();
      if (next) next(read);
      else reads.push(read);
      if (read !== undefined) res.writeHead(204).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const nextRead = (): Promise<Read> => (reads.length > 0 ? Promise.resolve(reads.shift() as Read) : new Promise((resolve) => waiting.push(resolve)));
  const open = async (): Promise<Socket> => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    await new Promise((resolve) => socket.once('connect', resolve));
    return socket;
  };
  return { refused, nextRead, open };
}

const head = (length: number): string => `POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe('readJsonBody', () => {
  it('reads a body that came in two chunks whole, a character split between them included', async () => {
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { note: 'café' } }), 'utf8');
    // The split falls inside the two bytes of 'é'.
    const cut = body.indexOf(Buffer.from('é', 'utf8')) + 1;
    let firstArrived: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (firstArrived = resolve));
    const chunks: number[] = [];
    const server = await reader(1024, (chunk) => {
      chunks.push(chunk.length);
      firstArrived();
    });
    const socket = await server.open();
    socket.write(Buffer.concat([Buffer.from(head(body.length)), body.subarray(0, cut)]));
    // The second half leaves only once the server holds the first: two chunks, for certain.
    await arrived;
    socket.write(body.subarray(cut));
    const read = await server.nextRead();
    expect(chunks).toEqual([cut, body.length - cut]);
    expect(read).toEqual({ body: { jsonrpc: '2.0', id: 1, method: 'ping', params: { note: 'café' } }, text: body.toString('utf8') });
    expect(server.refused).toEqual([]);
  });

  it('gives nothing, and counts nothing, for a client that leaves halfway through its body', async () => {
    let firstArrived: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (firstArrived = resolve));
    const server = await reader(1024, () => firstArrived());
    const socket = await server.open();
    socket.write(`${head(100)}{"jsonrpc":"2.0",`);
    await arrived;
    socket.destroy();
    expect(await server.nextRead()).toBeUndefined();
    expect(server.refused).toEqual([]);
  });

  it('refuses a body past the cap that declared no length, once, as payload_too_large', async () => {
    const server = await reader(16);
    const socket = await server.open();
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
        if (text.endsWith('"id":null}')) resolve(text);
      });
    });
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
    socket.write(`POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
    expect(await server.nextRead()).toBeUndefined();
    const text = await answer;
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    expect(text.slice(text.indexOf('\r\n\r\n') + 4)).toBe('{"jsonrpc":"2.0","error":{"code":-32000,"message":"Payload too large: the limit is 16 bytes"},"id":null}');
    expect(server.refused).toEqual(['payload_too_large']);
  });
});
