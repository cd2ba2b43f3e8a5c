import { describe, expect, it } from 'vitest';
import { FairQueue } from '../../src/bot/jobs/fair-queue.ts';
import { InProcessJobQueue, type QueueEntry } from '../../src/bot/jobs/job-queue.ts';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const noop = async () => undefined;

describe('FairQueue', () => {
  const ids = (queue: FairQueue) => queue.order().map((item) => item.id);

  it('serves users round-robin in arrival order within a round', () => {
    const queue = new FairQueue();
    for (const [id, userId] of [['a1', 'A'], ['a2', 'A'], ['a3', 'A'], ['b1', 'B'], ['c1', 'C'], ['b2', 'B']] as const) {
      queue.enqueue(noop, { id, userId });
    }
    expect(ids(queue)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
  });

  it('remembers who was just served: A1 running, then A2, A3 and B1 queued → B1 next', () => {
    const queue = new FairQueue();
    queue.enqueue(noop, { id: 'a1', userId: 'A' });
    expect(queue.dequeue()).toBe(noop);
    queue.enqueue(noop, { id: 'a2', userId: 'A' });
    queue.enqueue(noop, { id: 'a3', userId: 'A' });
    queue.enqueue(noop, { id: 'b1', userId: 'B' });
    expect(ids(queue)).toEqual(['b1', 'a2', 'a3']);
  });

  it('removes by id and filters by user', () => {
    const queue = new FairQueue();
    queue.enqueue(noop, { id: 'a1', userId: 'A' });
    queue.enqueue(noop, { id: 'b1', userId: 'B' });
    queue.remove('a1');
    expect(ids(queue)).toEqual(['b1']);
    expect(queue.size).toBe(1);
    expect(queue.filter({ userId: 'A' })).toHaveLength(0);
    expect(queue.filter({ userId: 'B' })).toHaveLength(1);
  });
});

describe('InProcessJobQueue', () => {
  function setup(maxQueuedPerUser = 10) {
    const started: string[] = [];
    const gates = new Map<string, Deferred>();
    const queue = new InProcessJobQueue<QueueEntry>({ concurrency: 1, maxQueuedPerUser });
    const submit = (id: string, userId: string) =>
      queue.submit(
        { id, userId },
        {
          run: async () => {
            started.push(id);
            const gate = deferred();
            gates.set(id, gate);
            await gate.promise;
          },
          cancelledWhileQueued: () => started.push(`cancelled:${id}`),
        },
      );
    const finish = async (id: string) => {
      gates.get(id)?.resolve();
      await new Promise((resolve) => setTimeout(resolve, 0));
    };
    return { queue, started, submit, finish };
  }

  it('A queues 3 then B 1 → order A1, B1, A2, A3', async () => {
    const { started, submit, finish } = setup();
    expect(submit('a1', 'A')).toEqual({ accepted: true, position: 0 });
    expect(submit('a2', 'A')).toEqual({ accepted: true, position: 1 });
    expect(submit('a3', 'A')).toEqual({ accepted: true, position: 2 });
    expect(submit('b1', 'B')).toEqual({ accepted: true, position: 1 });
    for (const id of ['a1', 'b1', 'a2', 'a3']) await finish(id);
    expect(started).toEqual(['a1', 'b1', 'a2', 'a3']);
  });

  it('limits queued (not running) jobs per user', () => {
    const { queue, submit } = setup(2);
    expect(submit('a1', 'A').accepted).toBe(true); // runs at once
    expect(submit('a2', 'A').accepted).toBe(true);
    expect(submit('a3', 'A').accepted).toBe(true);
    expect(submit('a4', 'A')).toEqual({ accepted: false, reason: 'user-limit', limit: 2 });
    expect(queue.reserve('A')).toEqual({ accepted: false, reason: 'user-limit', limit: 2 });
    expect(submit('b1', 'B').accepted).toBe(true);
  });

  it('does not count a reservation that will run at once against the queued limit', () => {
    const { queue } = setup(1);
    const runs = queue.reserve('A');
    const waits = queue.reserve('A');
    expect(runs.accepted && waits.accepted).toBe(true);
    expect(queue.reserve('A')).toMatchObject({ accepted: false, reason: 'user-limit' });
  });

  it('counts reservations against the limit until they are submitted or released', () => {
    const { queue, submit } = setup(2);
    submit('a1', 'A'); // running
    const first = queue.reserve('A');
    const second = queue.reserve('A');
    expect(first.accepted && second.accepted).toBe(true);
    expect(queue.reserve('A')).toMatchObject({ accepted: false, reason: 'user-limit' });
    if (!first.accepted || !second.accepted) return;
    second.reservation.release();
    second.reservation.release(); // idempotent
    const task = { run: async () => undefined, cancelledWhileQueued: () => undefined };
    expect(first.reservation.submit({ id: 'a2', userId: 'A' }, task)).toEqual({ accepted: true, position: 1 });
    expect(() => first.reservation.submit({ id: 'a3', userId: 'A' }, task)).toThrow(/already used/);
    expect(queue.reserve('A').accepted).toBe(true);
  });

  it('reports positions and notifies as the queue moves', async () => {
    const { queue, submit, finish } = setup();
    let changes = 0;
    queue.onChange(() => changes++);
    submit('a1', 'A');
    submit('a2', 'A');
    submit('b1', 'B');
    expect(queue.position('a1')).toBe(0);
    expect(queue.position('b1')).toBe(1);
    expect(queue.position('a2')).toBe(2);
    const before = changes;
    await finish('a1');
    expect(changes).toBeGreaterThan(before);
    expect(queue.position('b1')).toBe(0);
    expect(queue.position('a2')).toBe(1);
    expect(queue.snapshot()).toEqual({ running: [{ id: 'b1', userId: 'B' }], queued: [{ id: 'a2', userId: 'A' }] });
  });

  it('cancels queued jobs without running them and running ones through their signal', async () => {
    const queue = new InProcessJobQueue<QueueEntry>({ concurrency: 1, maxQueuedPerUser: 5 });
    let runSignal: AbortSignal | undefined;
    let queuedReason: unknown;
    const release = deferred();
    queue.submit({ id: 'run', userId: 'A' }, {
      run: async (signal) => {
        runSignal = signal;
        await release.promise;
      },
      cancelledWhileQueued: () => undefined,
    });
    let secondRan = false;
    queue.submit({ id: 'wait', userId: 'B' }, {
      run: async () => {
        secondRan = true;
      },
      cancelledWhileQueued: (reason) => (queuedReason = reason),
    });
    expect(queue.cancel('wait', 'because')).toBe('queued');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(queuedReason).toBe('because');
    expect(queue.get('wait')).toBeUndefined();
    expect(queue.cancel('run', 'stop')).toBe('running');
    expect(runSignal?.aborted).toBe(true);
    expect(queue.cancel('nope', 'x')).toBe('unknown');
    release.resolve();
    await queue.whenIdle();
    expect(secondRan).toBe(false);
  });

  it('close cancels waiting jobs and refuses new ones', async () => {
    const { queue, submit, started, finish } = setup();
    submit('a1', 'A');
    submit('b1', 'B');
    expect(queue.close('shutdown').map((entry) => entry.id)).toEqual(['b1']);
    expect(submit('c1', 'C')).toEqual({ accepted: false, reason: 'closed' });
    await finish('a1');
    await queue.whenIdle();
    expect(started).toEqual(['a1', 'cancelled:b1']);
  });
});
