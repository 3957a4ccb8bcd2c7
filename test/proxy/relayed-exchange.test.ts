import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientAnswer } from '../../src/http/front-door.js';
import type { ResponseHead } from '../../src/proxy/http1-response.js';
import { RelayedExchange, type RelayContext } from '../../src/proxy/relayed-exchange.js';

/** A ClientAnswer that records what the exchange asks of it, in order. */
function recordingAnswer(): { answer: ClientAnswer; calls: string[] } {
  const calls: string[] = [];
  const answer: ClientAnswer = {
    writeHead: (status) => void calls.push(`writeHead ${status}`),
    json: (status) => void calls.push(`json ${status}`),
    write: (chunk) => (calls.push(`write ${chunk.toString('latin1')}`), true),
    flush: () => void calls.push('flush'),
    flushHeaders: () => void calls.push('flushHeaders'),
    end: () => void calls.push('end'),
    destroy: () => void calls.push('destroy'),
    onClose: () => {},
    onDrain: () => {},
    finished: false,
  };
  return { answer, calls };
}

const context: RelayContext = { watch: undefined, unreachable: () => '', done: () => {} };

function eventStreamHead(): ResponseHead {
  const raw = ['Content-Type', 'text/event-stream', 'Transfer-Encoding', 'chunked'];
  const names = ['content-type', 'transfer-encoding'];
  return { status: 200, reason: 'OK', raw, names, header: (name) => raw[2 * names.indexOf(name) + 1] };
}

/** An exchange whose answer is an event stream, its head read (alone) and the read handled. */
function headAlone() {
  const { answer, calls } = recordingAnswer();
  let over = 0;
  const exchange = new RelayedExchange(context, answer, () => undefined, 1, () => void over++);
  exchange.head(eventStreamHead());
  exchange.read();
  return { exchange, calls, over: () => over };
}

describe("RelayedExchange: an event stream's head that comes in a read of its own", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('goes with the first event when that comes within a millisecond: one write for both', () => {
    const { exchange, calls } = headAlone();
    vi.advanceTimersByTime(0.9);
    exchange.body(Buffer.from('event: message\n\n'));
    exchange.read();
    vi.advanceTimersByTime(5);
    // The head is written (held by the answer) and flushed with the event; never alone.
    expect(calls).toEqual(['writeHead 200', 'flush', 'write event: message\n\n', 'flush']);
  });

  it('goes alone a millisecond after its read when no event came, and the events follow as they come', () => {
    const { exchange, calls } = headAlone();
    vi.advanceTimersByTime(0.9);
    expect(calls).toEqual(['writeHead 200', 'flush']);
    vi.advanceTimersByTime(0.1);
    expect(calls).toEqual(['writeHead 200', 'flush', 'flushHeaders']);
    exchange.body(Buffer.from('data: 1\n\n'));
    exchange.read();
    vi.advanceTimersByTime(5);
    expect(calls).toEqual(['writeHead 200', 'flush', 'flushHeaders', 'write data: 1\n\n', 'flush']);
  });

  it('goes with the end when the stream ends with no event, and nothing is left to fire', () => {
    const { exchange, calls, over } = headAlone();
    expect(vi.getTimerCount()).toBe(1);
    exchange.end();
    expect([calls, over(), vi.getTimerCount()]).toEqual([['writeHead 200', 'flush', 'end'], 1, 0]);
  });
});
