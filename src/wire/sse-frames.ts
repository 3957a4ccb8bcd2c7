/**
 * Server-sent events as MCP uses them: each event's `data` is one JSON-RPC message, or
 * nothing (an SDK's priming event for resumable streams is an `id:` line and an empty
 * `data:` line; heartbeats are comments).
 */

/** Splits an SSE stream, given as text in chunks of any size, into the `data` of each event; events without data are skipped. */
export class SseFrames {
  private partial = '';

  push(text: string): string[] {
    const buffer = this.partial === '' ? text : this.partial + text;
    const events: string[] = [];
    // Events end with a blank line; servers write \n (the SDKs do), the specification allows \r\n and \r too.
    if (buffer.includes('\r')) return this.pushSlow(buffer);
    let at = 0;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n', at)) {
      const data = dataOf(buffer, at, end);
      if (data !== '') events.push(data);
      at = end + 2;
    }
    this.partial = at === 0 ? buffer : buffer.slice(at);
    return events;
  }

  /** Line ends made \n first; a \r at the very end waits, as it may be half of a \r\n. */
  private pushSlow(buffer: string): string[] {
    const held = buffer.endsWith('\r') ? '\r' : '';
    this.partial = '';
    const events = this.push((held === '' ? buffer : buffer.slice(0, -1)).replace(/\r\n?/g, '\n'));
    this.partial += held;
    return events;
  }
}

/** The `data` lines of the event in `text[start, end)`, joined as the SSE specification says. */
function dataOf(text: string, start: number, end: number): string {
  let data: string | undefined;
  let line = start;
  while (line < end) {
    let lineEnd = text.indexOf('\n', line);
    if (lineEnd < 0 || lineEnd > end) lineEnd = end;
    if (text.startsWith('data:', line)) {
      const from = line + (text.charCodeAt(line + 5) === 32 ? 6 : 5);
      const value = text.slice(from, lineEnd);
      data = data === undefined ? value : `${data}\n${value}`;
    }
    line = lineEnd + 1;
  }
  return data ?? '';
}

/** JSON text parsed as one JSON-RPC message (an object), or undefined. */
export function parseMessage<T extends object>(text: string): T | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The JSON-RPC messages of a whole answer body: the JSON itself, or every SSE event that
 * carries one, in order; events without a message (a priming event, a comment) are passed over.
 */
export function messagesIn<T extends object>(body: string, eventStream: boolean): T[] {
  const texts = eventStream ? new SseFrames().push(`${body}\n\n`) : [body];
  const messages: T[] = [];
  for (const text of texts) {
    const message = parseMessage<T>(text);
    if (message !== undefined) messages.push(message);
  }
  return messages;
}
