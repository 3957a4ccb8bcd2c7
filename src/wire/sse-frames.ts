/**
 * Server-sent events as MCP uses them: each event's `data` is one JSON-RPC message, or
 * nothing (an SDK's priming event for resumable streams is an `id:` line and an empty
 * `data:` line; heartbeats are comments).
 */

/** Splits an SSE stream, given as text in chunks of any size, into the `data` of each event; events without data are skipped. */
export class SseFrames {
  private partial = '';

  push(text: string): string[] {
    this.partial += text;
    const events: string[] = [];
    let boundary: RegExpExecArray | null;
    while ((boundary = /\r?\n\r?\n/.exec(this.partial)) !== null) {
      const raw = this.partial.slice(0, boundary.index);
      this.partial = this.partial.slice(boundary.index + boundary[0].length);
      const data = dataOf(raw);
      if (data !== '') events.push(data);
    }
    return events;
  }
}

/** The `data` lines of one event, joined as the SSE specification says. */
function dataOf(event: string): string {
  let data: string | undefined;
  for (const line of event.split(/\r?\n/)) {
    if (!line.startsWith('data:')) continue;
    const value = line.slice(line[5] === ' ' ? 6 : 5);
    data = data === undefined ? value : `${data}\n${value}`;
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
