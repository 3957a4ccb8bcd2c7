/**
 * A web-standard Response handed on to the client with its body watched as it passes (see
 * BodyWatch): small JSON answers read whole first, streams passed through chunk by chunk.
 */
import { SlotList } from '../core/slot-list.js';
import { jsonRpcErrorResponse, SHUTTING_DOWN, type JsonRpcId } from '../transport/http-answers.js';
import type { BodyWatch } from './exchange.js';

const noop = (): void => {};

/**
 * Shutdown as the exchanges in flight hear of it: each registers what to do then, in one
 * SlotList (no event listener to add and remove per exchange, and no Set whose table churns
 * with every request: see SlotList).
 */
export class Shutdown {
  private readonly waiting = new SlotList<{ then: () => void; slot: number }>();
  private begun = false;

  get hasBegun(): boolean {
    return this.begun;
  }

  begin(): void {
    if (this.begun) return;
    this.begun = true;
    for (const { then } of this.waiting.clear()) then();
  }

  /** Calls `then` when shutdown begins (now, if it has); returns what takes it back. */
  on(then: () => void): () => void {
    if (this.begun) {
      then();
      return noop;
    }
    const entry = { then, slot: -1 };
    this.waiting.add(entry);
    return () => void this.waiting.delete(entry);
  }
}

/**
 * The handler's answer, or a JSON-RPC error for request `id` if shutdown begins first (the
 * handler's late answer is then let go).
 */
export function untilShutdown(served: Promise<Response>, shutdown: Shutdown, id: JsonRpcId): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    let settled = false;
    const forget = shutdown.on(() => {
      if (settled) return;
      settled = true;
      resolve(jsonRpcErrorResponse(200, id, SHUTTING_DOWN.code, SHUTTING_DOWN.message));
    });
    served.then(
      (response) => {
        if (settled) return void response.body?.cancel().catch(() => {});
        settled = true;
        forget();
        resolve(response);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        forget();
        reject(error);
      },
    );
  });
}

/** The response, its body watched as it passes: read whole first (small JSON), or passed through chunk by chunk. */
export async function carry(response: Response, watch: BodyWatch, signal: AbortSignal, shutdown?: Shutdown): Promise<Response> {
  if (!watch.whole) return passThrough(response, watch, signal, shutdown);
  let text = '';
  try {
    text = response.body === null ? '' : await response.text();
  } catch {
    // The body failed: the watch sees what arrived, which is nothing.
  }
  watch.whole(text);
  watch.end?.();
  return new Response(response.body === null ? null : text, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** The response with its body passed through unchanged while `watch` sees it go by. */
function passThrough(response: Response, watch: BodyWatch, signal: AbortSignal, shutdown?: Shutdown): Response {
  const source = response.body;
  if (source === null) {
    watch.end?.();
    return response;
  }
  const reader = source.getReader();
  const decoder = watch.chunk ? new TextDecoder() : undefined;
  const cancelled = (): void => watch.cancel?.();
  if (watch.cancel) signal.addEventListener('abort', cancelled, { once: true });
  watch.hold?.(() => void reader.cancel().catch(() => {}));
  let over = false;
  let forgetShutdown = noop;
  let streamController: ReadableStreamDefaultController<Uint8Array> | undefined;
  let saidLastWords = false;
  const finish = (): void => {
    if (over) return;
    over = true;
    signal.removeEventListener('abort', cancelled);
    forgetShutdown();
    watch.end?.();
  };
  // At shutdown an answer still pending gets its error as the stream's last frame.
  const lastWords = (): void => {
    const frame = watch.lastWords?.();
    if (frame === undefined || over || !streamController) return;
    saidLastWords = true;
    watch.chunk?.(frame);
    streamController.enqueue(new TextEncoder().encode(frame));
    finish();
    streamController.close();
    void reader.cancel().catch(() => {});
  };
  if (shutdown && watch.lastWords) forgetShutdown = shutdown.on(lastWords);
  const body = new ReadableStream<Uint8Array>({
    start: (controller) => {
      streamController = controller;
    },
    pull: async (controller) => {
      try {
        const { done, value } = await reader.read();
        // Ended at shutdown while this read waited: the stream is closed already, its last frame queued.
        if (saidLastWords) return;
        if (done) {
          finish();
          controller.close();
          return;
        }
        if (decoder) watch.chunk?.(decoder.decode(value, { stream: true }));
        controller.enqueue(value);
      } catch (error) {
        if (saidLastWords) return;
        finish();
        controller.error(error);
      }
    },
    cancel: async (why) => {
      watch.cancel?.();
      finish();
      await reader.cancel(why).catch(() => {});
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
