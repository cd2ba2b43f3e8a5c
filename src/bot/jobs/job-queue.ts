import PQueue from 'p-queue';
import { FairQueue, type FairQueueOptions } from './fair-queue.ts';
import type { JournalEntry } from './job-journal.ts';

/** What the queue needs to know about a job. */
export interface QueueEntry {
  id: string;
  userId: string;
}

export interface QueueTask {
  /** Runs the job; `signal` fires when the job is cancelled while running. Should not throw. */
  run(signal: AbortSignal): Promise<void>;
  /** Called instead of `run` when the job is cancelled before it started. */
  cancelledWhileQueued(reason: unknown): void;
}

export type SubmitOutcome =
  | { accepted: true; /** 0 = running already, 1 = next, … */ position: number }
  | { accepted: false; reason: 'user-limit'; limit: number }
  | { accepted: false; reason: 'closed' }
  /** The queue could not record the job (its store failed); nothing was queued. */
  | { accepted: false; reason: 'unavailable' };

export type Refusal = Exclude<SubmitOutcome, { accepted: true }>;

/**
 * A place held for a user between the admission check and the submission (which may come after an
 * await, e.g. acknowledging the interaction), so that concurrent requests cannot all pass the check.
 */
export interface Reservation<Entry extends QueueEntry> {
  /** Submits the job in the held place; refused only if the queue closed meanwhile. */
  submit(entry: Entry, task: QueueTask): SubmitOutcome;
  /** Gives the place back without submitting. */
  release(): void;
}

export type ReserveOutcome<Entry extends QueueEntry> = { accepted: true; reservation: Reservation<Entry> } | Refusal;

export interface QueueSnapshot<Entry extends QueueEntry> {
  running: Entry[];
  /** In the order they will run. */
  queued: Entry[];
}

/**
 * The bot's job queue. The in-process implementation is {@link InProcessJobQueue}; the interface is
 * what a shared (e.g. Redis-backed) queue for several bot processes would implement.
 */
export interface JobQueue<Entry extends QueueEntry> {
  /** Holds a place for `userId` if they may submit now (queue open, under the per-user limit). */
  reserve(userId: string): ReserveOutcome<Entry>;
  /** Reserves and submits in one go. */
  submit(entry: Entry, task: QueueTask): SubmitOutcome;
  /** Cancels a queued or running job; `reason` reaches the task (queued) or the run signal (running). */
  cancel(jobId: string, reason: unknown): 'queued' | 'running' | 'unknown';
  get(jobId: string): Entry | undefined;
  /** 1-based place among waiting jobs, 0 while running, undefined when not in the queue. */
  position(jobId: string): number | undefined;
  snapshot(): QueueSnapshot<Entry>;
  /** Called after every change of order or state; returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
  /** Stops accepting jobs and cancels every waiting one with `reason`; returns those cancelled. */
  close(reason: unknown): Entry[];
  /** Resolves when no job is running (after `close`, when the queue is finished). */
  whenIdle(): Promise<void>;
  /**
   * Puts back a job accepted before a restart (durable queues only), outside the per-user limit:
   * it was admitted already.
   */
  resubmit?(entry: Entry, task: QueueTask): SubmitOutcome;
  /** Jobs accepted before the last stop or crash and not finished, in the order to resume them (durable queues only). */
  unfinished?(): JournalEntry[];
  /** Drops a kept job without running it (durable queues only). */
  discard?(jobId: string): void;
}

interface Tracked<Entry> {
  entry: Entry;
  state: 'queued' | 'running';
  dequeueSignal: AbortController;
  runSignal: AbortController;
}

export interface InProcessJobQueueOptions {
  concurrency: number;
  /** Most jobs one user may have waiting (running ones not counted). */
  maxQueuedPerUser: number;
  onError?: (error: unknown, jobId: string) => void;
}

/** A {@link JobQueue} on p-queue, with {@link FairQueue} ordering users round-robin. */
export class InProcessJobQueue<Entry extends QueueEntry> implements JobQueue<Entry> {
  readonly #pqueue: PQueue<FairQueue, FairQueueOptions>;
  readonly #jobs = new Map<string, Tracked<Entry>>();
  readonly #listeners = new Set<() => void>();
  #fairQueue: FairQueue | undefined;
  #closed = false;
  /** Places in the queue held by reservations not yet submitted, per user. */
  readonly #reserved = new Map<string, number>();
  /** Reservations that will take a free slot and run at once. */
  #slotClaims = 0;

  constructor(private readonly options: InProcessJobQueueOptions) {
    // p-queue builds its queue itself (again on `clear()`); capture each instance to read the order.
    const capture = (queue: FairQueue) => (this.#fairQueue = queue);
    this.#pqueue = new PQueue<FairQueue, FairQueueOptions>({
      concurrency: options.concurrency,
      queueClass: class extends FairQueue {
        constructor() {
          super();
          capture(this);
        }
      },
    });
  }

  reserve(userId: string): ReserveOutcome<Entry> {
    if (this.#closed) return { accepted: false, reason: 'closed' };
    // A reservation that will find a free slot becomes a running job, which the limit does not count.
    const takesFreeSlot = this.#jobs.size + this.#slotClaims < this.options.concurrency;
    const held = this.#reserved.get(userId) ?? 0;
    if (!takesFreeSlot && this.queuedCount(userId) + held >= this.options.maxQueuedPerUser) {
      return { accepted: false, reason: 'user-limit', limit: this.options.maxQueuedPerUser };
    }
    if (takesFreeSlot) this.#slotClaims++;
    else this.#reserved.set(userId, held + 1);
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      if (takesFreeSlot) {
        this.#slotClaims--;
        return true;
      }
      const remaining = (this.#reserved.get(userId) ?? 1) - 1;
      if (remaining > 0) this.#reserved.set(userId, remaining);
      else this.#reserved.delete(userId);
      return true;
    };
    return {
      accepted: true,
      reservation: {
        submit: (entry, task) => {
          if (!settle()) throw new Error('reservation already used');
          if (entry.userId !== userId) throw new Error(`reservation for ${userId} used by ${entry.userId}`);
          return this.#enqueue(entry, task);
        },
        release: () => void settle(),
      },
    };
  }

  submit(entry: Entry, task: QueueTask): SubmitOutcome {
    const reserved = this.reserve(entry.userId);
    return reserved.accepted ? reserved.reservation.submit(entry, task) : reserved;
  }

  resubmit(entry: Entry, task: QueueTask): SubmitOutcome {
    return this.#enqueue(entry, task);
  }

  #enqueue(entry: Entry, task: QueueTask): SubmitOutcome {
    if (this.#closed) return { accepted: false, reason: 'closed' };
    if (this.#jobs.has(entry.id)) throw new Error(`job ${entry.id} is already queued`);

    const tracked: Tracked<Entry> = {
      entry,
      state: 'queued',
      dequeueSignal: new AbortController(),
      runSignal: new AbortController(),
    };
    this.#jobs.set(entry.id, tracked);
    // p-queue gets only the dequeue signal: were it given the run signal, it would free the slot
    // the moment a running job is cancelled, before the engine has actually stopped.
    const added = this.#pqueue.add(
      async () => {
        tracked.state = 'running';
        this.#emitChange();
        try {
          await task.run(tracked.runSignal.signal);
        } catch (error) {
          this.options.onError?.(error, entry.id);
        } finally {
          this.#jobs.delete(entry.id);
          this.#emitChange();
        }
      },
      { id: entry.id, userId: entry.userId, signal: tracked.dequeueSignal.signal },
    );
    added.catch((error: unknown) => {
      if (!tracked.dequeueSignal.signal.aborted) return this.options.onError?.(error, entry.id);
      this.#jobs.delete(entry.id);
      try {
        task.cancelledWhileQueued(tracked.dequeueSignal.signal.reason);
      } finally {
        this.#emitChange();
      }
    });
    this.#emitChange();
    return { accepted: true, position: this.position(entry.id) ?? 0 };
  }

  cancel(jobId: string, reason: unknown): 'queued' | 'running' | 'unknown' {
    const tracked = this.#jobs.get(jobId);
    if (!tracked) return 'unknown';
    if (tracked.state === 'queued') {
      tracked.dequeueSignal.abort(reason);
      return 'queued';
    }
    tracked.runSignal.abort(reason);
    return 'running';
  }

  get(jobId: string): Entry | undefined {
    return this.#jobs.get(jobId)?.entry;
  }

  position(jobId: string): number | undefined {
    const tracked = this.#jobs.get(jobId);
    if (!tracked) return undefined;
    if (tracked.state === 'running') return 0;
    const index = this.#waitingIds().indexOf(jobId);
    return index === -1 ? undefined : index + 1;
  }

  snapshot(): QueueSnapshot<Entry> {
    const running = [...this.#jobs.values()].filter((job) => job.state === 'running').map((job) => job.entry);
    const queued = this.#waitingIds()
      .map((id) => this.#jobs.get(id)?.entry)
      .filter((entry): entry is Entry => entry !== undefined);
    return { running, queued };
  }

  queuedCount(userId: string): number {
    let count = 0;
    for (const job of this.#jobs.values()) if (job.state === 'queued' && job.entry.userId === userId) count++;
    return count;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(reason: unknown): Entry[] {
    this.#closed = true;
    const waiting = this.snapshot().queued;
    for (const entry of waiting) this.cancel(entry.id, reason);
    return waiting;
  }

  async whenIdle(): Promise<void> {
    while ([...this.#jobs.values()].some((job) => job.state === 'running')) {
      await new Promise<void>((resolve) => {
        const unsubscribe = this.onChange(() => {
          unsubscribe();
          resolve();
        });
      });
    }
  }

  #waitingIds(): string[] {
    return (this.#fairQueue?.order() ?? []).map((item) => item.id).filter((id): id is string => id !== undefined);
  }

  #emitChange(): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch (error) {
        this.options.onError?.(error, '');
      }
    }
  }
}
