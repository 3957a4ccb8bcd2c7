import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';

interface JsonStream {
  resolveJson: (response: Response) => void;
  cleanup: () => void;
}

function isJsonStream(value: unknown): value is JsonStream {
  const stream = value as Partial<JsonStream> | null;
  return typeof stream?.resolveJson === 'function' && typeof stream.cleanup === 'function';
}

/**
 * With JSON responses (enableJsonResponse), the MCP SDK 1.x (1.32.2 included) keeps one
 * entry per answered POST in the transport's stream map until the session closes, with
 * the answer it sent: about 5 KB per request for the life of a session
 * (modelcontextprotocol/typescript-sdk#2559). This releases each entry once its answer
 * is handed over, as the SDK's next major version does. It changes nothing it does not
 * recognize, and releasing twice is harmless once the SDK does it too.
 */
export function releaseAnsweredJsonStreams(transport: StreamableHTTPServerTransport | WebStandardStreamableHTTPServerTransport): boolean {
  // The node transport holds a web-standard one, whose map it is.
  type Inner = { _streamMapping?: unknown };
  const inner = (transport as unknown as { _webStandardTransport?: Inner })._webStandardTransport ?? (transport as unknown as Inner);
  const streams = inner._streamMapping;
  if (!(streams instanceof Map)) return false;
  const set = streams.set;
  streams.set = function (this: Map<unknown, unknown>, key: unknown, value: unknown) {
    if (isJsonStream(value)) {
      const resolve = value.resolveJson;
      value.resolveJson = (response) => {
        resolve(response);
        value.cleanup();
      };
    }
    return set.call(this, key, value);
  };
  return true;
}
