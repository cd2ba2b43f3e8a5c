import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CoalescingUpdater } from '../../src/bot/delivery/coalescing-updater.ts';

interface Sent {
  update: number;
  at: number;
}

function recorder(options: { hang?: (update: number) => boolean; fail?: (update: number) => unknown } = {}) {
  const sent: Sent[] = [];
  const send = (update: number) => {
    sent.push({ update, at: Date.now() });
    const failure = options.fail?.(update);
    if (failure !== undefined) return Promise.reject(failure);
    if (options.hang?.(update)) return new Promise<void>(() => undefined);
    return Promise.resolve();
  };
  return { sent, send };
}

describe('CoalescingUpdater', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  it('sends the first update at once, then at most one per interval, latest wins', async () => {
    const { sent, send } = recorder();
    const updater = new CoalescingUpdater<number>({ intervalMs: 1500, send });
    updater.push(1);
    for (let update = 2; update <= 10; update++) {
      await vi.advanceTimersByTimeAsync(100);
      updater.push(update);
    }
    // t = 900: only the first went out; 2…10 were coalesced into the newest.
    expect(sent.map((s) => s.update)).toEqual([1]);
    await vi.advanceTimersByTimeAsync(600);
    expect(sent.map((s) => s.update)).toEqual([1, 10]);
    expect(sent[1]?.at).toBe(1500);
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent).toHaveLength(2); // nothing stale is replayed
  });

  it('never sends more often than the interval under a steady stream', async () => {
    const { sent, send } = recorder();
    const updater = new CoalescingUpdater<number>({ intervalMs: 1500, send });
    for (let i = 0; i < 100; i++) {
      updater.push(i);
      await vi.advanceTimersByTimeAsync(100);
    }
    const gaps = sent.slice(1).map((s, i) => s.at - (sent[i]?.at ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1500);
    expect(sent.length).toBeLessThanOrEqual(Math.ceil(10_000 / 1500) + 1);
  });

  it('keeps a single edit in flight: a slow edit delays the next, which is the newest', async () => {
    let release!: () => void;
    const sent: number[] = [];
    const updater = new CoalescingUpdater<number>({
      intervalMs: 1000,
      send: (update) => {
        sent.push(update);
        return update === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
      },
    });
    updater.push(1);
    for (let i = 2; i <= 5; i++) {
      await vi.advanceTimersByTimeAsync(1000);
      updater.push(i);
    }
    expect(sent).toEqual([1]);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([1, 5]);
  });

  it('backs off for as long as a 429 asks', async () => {
    const rateLimited = { retryAfter: 5000 };
    const { sent, send } = recorder({ fail: (update) => (update === 1 ? rateLimited : undefined) });
    const onError = vi.fn();
    const updater = new CoalescingUpdater<number>({
      intervalMs: 1000,
      send,
      retryAfterMs: (error) => (error === rateLimited ? 5000 : undefined),
      onError,
    });
    updater.push(1);
    await vi.advanceTimersByTimeAsync(10);
    updater.push(2);
    await vi.advanceTimersByTimeAsync(4000);
    expect(sent.map((s) => s.update)).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent.map((s) => s.update)).toEqual([1, 2]);
    expect(onError).toHaveBeenCalledWith(rateLimited);
  });

  it('finish is never blocked by a hanging preview: it goes ahead after settleMs', async () => {
    const { send } = recorder({ hang: () => true });
    const updater = new CoalescingUpdater<number>({ intervalMs: 1500, send, settleMs: 1000 });
    updater.push(1);
    const deliver = vi.fn(async () => 'final');
    const finished = updater.finish(deliver);
    await vi.advanceTimersByTimeAsync(999);
    expect(deliver).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await expect(finished).resolves.toBe('final');
    expect(deliver).toHaveBeenCalledTimes(1);
  });

  it('delivers the final message again if a preview it went ahead of lands after it', async () => {
    let landPreview!: () => void;
    const order: string[] = [];
    const updater = new CoalescingUpdater<number>({
      intervalMs: 1500,
      settleMs: 500,
      send: () =>
        new Promise<void>((resolve) => {
          landPreview = () => {
            order.push('preview');
            resolve();
          };
        }),
    });
    updater.push(1);
    const finished = updater.finish(async () => order.push('final'));
    await vi.advanceTimersByTimeAsync(500);
    await finished;
    landPreview();
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['final', 'preview', 'final']);
  });

  it('does not repeat the final message when the late preview failed', async () => {
    let failPreview!: () => void;
    const deliver = vi.fn(async () => undefined);
    const updater = new CoalescingUpdater<number>({
      intervalMs: 1500,
      settleMs: 500,
      send: () => new Promise<void>((_resolve, reject) => (failPreview = () => reject(new Error('timeout')))),
    });
    updater.push(1);
    const finished = updater.finish(deliver);
    await vi.advanceTimersByTimeAsync(500);
    await finished;
    failPreview();
    await vi.advanceTimersByTimeAsync(0);
    expect(deliver).toHaveBeenCalledTimes(1);
  });

  it('finish waits for a preview in flight that completes in time, so it cannot land after the final message', async () => {
    const order: string[] = [];
    const updater = new CoalescingUpdater<number>({
      intervalMs: 1500,
      send: () =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            order.push('preview');
            resolve();
          }, 200),
        ),
    });
    updater.push(1);
    const finished = updater.finish(async () => order.push('final'));
    await vi.advanceTimersByTimeAsync(200);
    await finished;
    expect(order).toEqual(['preview', 'final']);
  });

  it('drops pending updates on finish and ignores later pushes', async () => {
    const { sent, send } = recorder();
    const updater = new CoalescingUpdater<number>({ intervalMs: 1500, send });
    updater.push(1);
    updater.push(2); // pending behind the interval
    await updater.finish(async () => undefined);
    updater.push(3);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sent.map((s) => s.update)).toEqual([1]);
  });
});
