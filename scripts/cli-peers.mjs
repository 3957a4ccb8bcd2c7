// Prints the peer dependencies the CLI needs, at the versions package-lock.json pins, as
// `npm install` arguments: prom-client, the OpenTelemetry SDK and its OTLP exporters (http/protobuf,
// http/json, grpc) are peers of the package (so a library user's own versions are used), and the
// Docker image installs them beside it.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const pinned = Object.keys(pkg.peerDependencies).map((name) => {
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`package-lock.json pins no version of ${name}: npm install first`);
  return `${name}@${version}`;
});
process.stdout.write(`${pinned.join(' ')}\n`);
