/**
 * A web-standard Response handed on to the client with its body watched as it passes (see
 * BodyWatch): small JSON answers read whole first, streams passed through chunk by chunk.
 */
import { jsonRpcErrorResponse, SHUTTING_DOWN, type JsonRpcId } from '../transport/http-answers.js';
import type { BodyWatch } from './exchange.js';

/**
 * The handler's answer, or a JSON-RPC error for request `id` if shutdown begins first (the
 * handler's late answer is then let go).
 */
export async function untilShutdown(served: Promise<Response>, stopping: AbortSignal, id: JsonRpcId): Promise<Response> {
  let stop: () => void = () => {};
  const stopped = new Promise<{ response: Response; late: boolean }>((resolve) => {
    stop = () => resolve({ response: jsonRpcErrorResponse(200, id, SHUTTING_DOWN.code, SHUTTING_DOWN.message), late: true });
    if (stopping.aborted) stop();
    else stopping.addEventListener('abort', stop, { once: true });
  });
  const first = await Promise.race([served.then((response) => ({ response, late: false })), stopped]);
  stopping.removeEventListener('abort', stop);
  if (first.late) void served.then((late) => late.body?.cancel()).catch(() => {});
  return first.response;
}

/** The response, its body watched as it passes: read whole first (small JSON), or passed through chunk by chunk. */
export async function carry(response: Response, watch: BodyWatch, signal: AbortSignal, stopping?: AbortSignal): Promise<Response> {
  if (!watch.whole) return passThrough(response, watch, signal, stopping);
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
function passThrough(response: Response, watch: BodyWatch, signal: AbortSignal, stopping?: AbortSignal): Response {
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
  let streamController: ReadableStreamDefaultController<Uint8Array> | undefined;
  let saidLastWords = false;
  const finish = (): void => {
    if (over) return;
    over = true;
    signal.removeEventListener('abort', cancelled);
    stopping?.removeEventListener('abort', lastWords);
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
  if (stopping && watch.lastWords) stopping.addEventListener('abort', lastWords, { once: true });
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
