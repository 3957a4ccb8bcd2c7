/**
 * The floor under any relay: each connection a client opens gets one to the upstream, and
 * the bytes pass both ways as they arrive, nothing read, parsed or counted. The bench sets
 * the proxy's own CPU per call beside this one's: what is left between them is HTTP and
 * monitoring, the rest is what reading two sockets and writing two costs in Node and the
 * kernel. `node tcp-relay.js <upstream port>`; prints {"port":N} on stdout once it listens.
 */
import { connect, createServer } from 'node:net';

const upstreamPort = Number(process.argv[2]);
if (!Number.isInteger(upstreamPort) || upstreamPort <= 0) {
  process.stderr.write(`tcp-relay: give the upstream's port, got "${process.argv[2] ?? ''}"\n`);
  process.exit(2);
}

const server = createServer((client) => {
  const upstream = connect({ host: '127.0.0.1', port: upstreamPort });
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  client.pipe(upstream);
  upstream.pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`);
});
