import { safetyOf, type Job } from './job.ts';
import type { JobJournal, JournalEntry, JournaledJob } from './job-journal.ts';
import { InProcessJobQueue, type InProcessJobQueueOptions, type JobQueue, type QueueTask, type ReserveOutcome, type SubmitOutcome } from './job-queue.ts';

/** What the journal keeps of a job; the seed must be fixed before the job is journaled. */
export function journalRecord(job: Job): JournaledJob {
  const { seed } = job.request;
  if (seed === undefined) throw new Error(`job ${job.id} has no seed: a rerun after a restart would make another image`);
  return {
    id: job.id,
    userId: job.userId,
    guildId: job.guildId,
    channelId: job.channelId,
    request: { ...job.request, seed },
    reply: job.reply.record(),
    safety: safetyOf(job),
    ...(job.parentMessageId ? { parentMessageId: job.parentMessageId } : {}),
    createdAt: job.createdAt,
  };
}

/**
 * The embedded queue made durable: the in-process fair queue, with every accepted job written to the
 * journal (synchronously, durably) before the submission returns, i.e. before its owner is told it is
 * queued. A job leaves the journal only when it is over and its final message is out, so after a
 * crash the journal holds exactly the jobs to resume.
 */
export class JournaledJobQueue implements JobQueue<Job> {
  readonly #inner: InProcessJobQueue<Job>;

  constructor(
    private readonly journal: JobJournal,
    private readonly options: InProcessJobQueueOptions,
  ) {
    this.#inner = new InProcessJobQueue<Job>(options);
  }

  reserve(userId: string): ReserveOutcome<Job> {
    const reserved = this.#inner.reserve(userId);
    if (!reserved.accepted) return reserved;
    const { reservation } = reserved;
    return {
      accepted: true,
      reservation: {
        submit: (entry, task) => {
          if (!this.#record(entry)) {
            reservation.release();
            return { accepted: false, reason: 'unavailable' };
          }
          return this.#settle(entry, reservation.submit(entry, this.#journaled(entry, task)));
        },
        release: () => reservation.release(),
      },
    };
  }

  submit(entry: Job, task: QueueTask): SubmitOutcome {
    const reserved = this.reserve(entry.userId);
    return reserved.accepted ? reserved.reservation.submit(entry, task) : reserved;
  }

  /** For a job read back from the journal: it is recorded already. */
  resubmit(entry: Job, task: QueueTask): SubmitOutcome {
    return this.#settle(entry, this.#inner.resubmit(entry, this.#journaled(entry, task)));
  }

  /** Jobs accepted before the last stop or crash and not finished, in the order to resume them. */
  unfinished(): JournalEntry[] {
    return this.journal.unfinished();
  }

  discard(jobId: string): void {
    this.#forget(jobId);
  }

  cancel(jobId: string, reason: unknown): 'queued' | 'running' | 'unknown' {
    return this.#inner.cancel(jobId, reason);
  }

  get(jobId: string): Job | undefined {
    return this.#inner.get(jobId);
  }

  position(jobId: string): number | undefined {
    return this.#inner.position(jobId);
  }

  snapshot() {
    return this.#inner.snapshot();
  }

  onChange(listener: () => void): () => void {
    return this.#inner.onChange(listener);
  }

  close(reason: unknown): Job[] {
    return this.#inner.close(reason);
  }

  whenIdle(): Promise<void> {
    return this.#inner.whenIdle();
  }

  #record(entry: Job): boolean {
    try {
      this.journal.add(journalRecord(entry));
      return true;
    } catch (error) {
      this.options.onError?.(error, entry.id);
      return false;
    }
  }

  /** A job the inner queue refused (it closed meanwhile) must not come back after a restart. */
  #settle(entry: Job, outcome: SubmitOutcome): SubmitOutcome {
    if (!outcome.accepted) this.#forget(entry.id);
    return outcome;
  }

  #journaled(entry: Job, task: QueueTask): QueueTask {
    return {
      run: async (signal) => {
        this.#journalWrite(entry.id, () => this.journal.markRunning(entry.id));
        try {
          await task.run(signal);
        } finally {
          this.#forget(entry.id);
        }
      },
      cancelledWhileQueued: (reason) => {
        this.#forget(entry.id);
        task.cancelledWhileQueued(reason);
      },
    };
  }

  #forget(jobId: string): void {
    this.#journalWrite(jobId, () => this.journal.remove(jobId));
  }

  #journalWrite(jobId: string, write: () => void): void {
    try {
      write();
    } catch (error) {
      this.options.onError?.(error, jobId);
    }
  }
}
