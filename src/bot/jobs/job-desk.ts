import type { CancelReason, Job } from './job.ts';
import type { Refusal, SubmitOutcome } from './job-queue.ts';

/** A place held for a user between the admission check and the submission. */
export interface HeldPlace {
  release(): void;
}

export type DeskReserveOutcome = { accepted: true; reservation: HeldPlace } | Refusal;

/** A job as /queue shows it. */
export interface JobSummary {
  id: string;
  userId: string;
  guildId: string | null;
  prompt: string;
  step?: number;
  totalSteps?: number;
}

/** A worker process of the distributed mode, as its last heartbeat described it. */
export interface WorkerSummary {
  id: string;
  host: string;
  models: string[];
  provider: string;
  running: JobSummary | null;
}

export interface QueueView {
  running: JobSummary[];
  /** In the order they will run (per model, in the distributed mode). */
  queued: JobSummary[];
  /** Only in the distributed mode: the workers online. */
  workers?: WorkerSummary[];
}

/**
 * What commands, buttons and reactions ask of the job system. The embedded mode answers from its
 * in-process queue ({@link JobService}); the distributed mode from Redis (the BullMQ gateway desk).
 */
export interface JobDesk {
  /** Whether new jobs can be taken right now (the shared queue is reachable); checked before anything else. */
  available(): boolean;
  /** Holds a queue place for `userId`: check this before acknowledging, submit after. */
  reserve(userId: string): Promise<DeskReserveOutcome>;
  /** Submits a job in a place reserved earlier (or a fresh one). */
  submit(job: Job, reservation?: HeldPlace): Promise<SubmitOutcome>;
  cancel(jobId: string, reason: CancelReason): Promise<'queued' | 'running' | 'unknown'>;
  /** The owner of a job that is still queued or running. */
  ownerOf(jobId: string): Promise<string | undefined>;
  view(): Promise<QueueView>;
  /** Stops taking jobs; what happens to queued and running ones depends on the mode. */
  shutdown(graceMs: number): Promise<void>;
}

export function summarizeJob(job: Job): JobSummary {
  return {
    id: job.id,
    userId: job.userId,
    guildId: job.guildId,
    prompt: job.request.prompt,
    ...(job.progress ? { step: job.progress.step, totalSteps: job.progress.totalSteps } : {}),
  };
}
