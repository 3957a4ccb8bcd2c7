import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionTracker } from '../../src/core/session-tracker.js';
import type { UpstreamFailure, UpstreamState } from '../../src/core/types.js';
import { failureOf, meansDown, UpstreamWatch, type CheckResult } from '../../src/proxy/upstream-watch.js';

/** A watch on a fake clock, with what its tracker told monitors. */
function watchWith(check: () => Promise<CheckResult>, intervalMs = 10_000) {
  const changes: UpstreamState[] = [];
  const failures: UpstreamFailure[] = [];
  const tracker = new SessionTracker({ now: () => Date.now() });
  tracker.subscribe({ onUpstreamChange: (state) => void changes.push(state), onUpstreamFailure: (reason) => void failures.push(reason) });
  const watch = new UpstreamWatch({ tracker, intervalMs, check, now: () => Date.now() });
  return { watch, tracker, changes, failures };
}

describe('UpstreamWatch', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports the first state and each change, not each repeat; every failure is counted', () => {
    const { watch, tracker, changes, failures } = watchWith(async () => undefined);
    expect(tracker.upstream).toBeUndefined();
    watch.answered();
    watch.answered();
    watch.failed('connection_refused', true);
    watch.failed('timeout', true);
    watch.answered();
    watch.stop();
    expect(changes.map((state) => [state.up, state.reason])).toEqual([
      [true, undefined],
      [false, 'connection_refused'],
      [true, undefined],
    ]);
    expect(failures).toEqual(['connection_refused', 'timeout']);
    expect(tracker.upstream).toEqual({ up: true, since: 1_000_000 });
  });

  it('a failure that does not mean down (a 500, a child that exited) is counted and leaves the state', () => {
    const { watch, tracker, failures } = watchWith(async () => undefined);
    watch.answered();
    watch.failed('server_error', false);
    watch.failed('child_exited', false);
    watch.stop();
    expect(tracker.upstream?.up).toBe(true);
    expect(failures).toEqual(['server_error', 'child_exited']);
  });

  it('checks only once the upstream has been silent a whole interval, and then each interval', async () => {
    const check = vi.fn(async (): Promise<CheckResult> => ({ reason: 'connection_refused', down: true }));
    const { watch, tracker } = watchWith(check, 4000);
    await vi.advanceTimersByTimeAsync(3000);
    watch.answered();
    await vi.advanceTimersByTimeAsync(3999);
    expect(check).toHaveBeenCalledTimes(0);
    // The timer looks every quarter interval: the check comes at most 1 s after the interval.
    await vi.advanceTimersByTimeAsync(1001);
    expect(check).toHaveBeenCalledTimes(1);
    expect(tracker.upstream).toMatchObject({ up: false, reason: 'connection_refused' });
    await vi.advanceTimersByTimeAsync(5000);
    expect(check).toHaveBeenCalledTimes(2);
    // Back up within an interval once the check is answered.
    check.mockImplementation(async () => undefined);
    await vi.advanceTimersByTimeAsync(5000);
    expect(tracker.upstream?.up).toBe(true);
    watch.stop();
  });

  it('runs one check at a time, and none after stop', async () => {
    let release: (value: CheckResult) => void = () => {};
    const check = vi.fn(() => new Promise<CheckResult>((resolve) => (release = resolve)));
    const { watch } = watchWith(check, 1000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(check).toHaveBeenCalledTimes(1);
    release(undefined);
    await vi.advanceTimersByTimeAsync(0);
    watch.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(check).toHaveBeenCalledTimes(1);
  });

  it('interval 0 never checks on its own', async () => {
    const check = vi.fn(async (): Promise<CheckResult> => undefined);
    const { watch } = watchWith(check, 0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(check).toHaveBeenCalledTimes(0);
    watch.stop();
  });
});

describe('failureOf and meansDown', () => {
  it('names node:http and fetch errors by their code', () => {
    const cases: [unknown, UpstreamFailure][] = [
      [{ code: 'ECONNREFUSED' }, 'connection_refused'],
      [{ cause: { code: 'ECONNREFUSED' } }, 'connection_refused'],
      [{ code: 'ECONNRESET' }, 'connection_reset'],
      [{ code: 'EPIPE' }, 'connection_reset'],
      [{ cause: { code: 'UND_ERR_SOCKET' } }, 'connection_reset'],
      [{ code: 'ETIMEDOUT' }, 'timeout'],
      [{ cause: { code: 'UND_ERR_CONNECT_TIMEOUT' } }, 'timeout'],
      [{ name: 'TimeoutError' }, 'timeout'],
      [{ code: 'ENOTFOUND' }, 'unreachable'],
      [{ code: 'EHOSTUNREACH' }, 'unreachable'],
      [new Error('anything else'), 'unreachable'],
      [undefined, 'unreachable'],
    ];
    expect(cases.map(([error]) => failureOf(error))).toEqual(cases.map(([, reason]) => reason));
  });

  it('takes 502, 503 and 504 as down, other 5xx as an error of a server that answers', () => {
    expect([500, 501, 502, 503, 504, 505].map(meansDown)).toEqual([false, false, true, true, true, false]);
  });
});
