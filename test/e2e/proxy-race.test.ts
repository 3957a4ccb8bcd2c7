import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module fixture, without types
import { loggingServer } from '../fixtures/logging-server.mjs';
import { useCliProcesses } from '../cli-process.js';
import { useTestPeers } from '../peers.js';

const { start } = useCliProcesses();
const { sdkServer } = useTestPeers();
const RUNS = 50;

/** Connects, sets the log level at once (no pause), and says whether the server's log notification arrived with the answer. */
async function raceOnce(url: string): Promise<boolean> {
  const client = new Client({ name: 'racer', version: '1.0.0' });
  let heard = false;
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void (heard ||= n.params.data === 'level set to debug'));
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  await client.setLoggingLevel('debug');
  await client.close();
  return heard;
}

/** RUNS sessions, five at a time; how many heard it. */
async function race(url: string): Promise<number> {
  let heard = 0;
  await Promise.all(
    Array.from({ length: 5 }, async () => {
      for (let i = 0; i < RUNS / 5; i++) if (await raceOnce(url)) heard += 1;
    }),
  );
  return heard;
}

describe(`a client that sets its log level at once hears the answering log notification, ${RUNS} times of ${RUNS}`, () => {
  it('proxy --stdio, as directly over stdio', async () => {
    const proxy = await start(['proxy', '--stdio', `${process.execPath} ${fileURLToPath(new URL('../fixtures/logging-server.mjs', import.meta.url))} stdio`]);
    expect(await race(proxy.url)).toBe(RUNS);
  }, 60_000);

  it('proxy --upstream, and the same upstream directly', async () => {
    const { url } = await sdkServer(() => loggingServer() as { connect(t: never): Promise<void> });
    const proxy = await start(['proxy', '--upstream', url]);
    expect([await race(url), await race(proxy.url)]).toEqual([RUNS, RUNS]);
  }, 60_000);
});
