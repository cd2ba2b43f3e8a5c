import type { Logger } from 'pino';
import { randomSeed } from '../../engine/request.ts';
import type { Engine, GenerateResult } from '../../engine/types.ts';
import { describeDiscordError } from '../delivery/discord-errors.ts';
import type { DiscordMessenger, OutgoingMessage } from '../delivery/discord-messenger.ts';
import type { ResultOutbox } from '../results/result-outbox.ts';
import { isCancelReason, type CancelReason, type Job } from './job.ts';
import { cancelledMessage, failedMessage } from '../delivery/job-messages.ts';
import { jobStatusUpdater, type JobStatusUpdater } from '../delivery/job-status.ts';
import { prepareResultDelivery, recordDelivery, type JobResult } from '../delivery/job-result.ts';
import { generateForJob, generationFailedMessage } from './job-generation.ts';
import type { JobQueue, QueueTask, Reservation, ReserveOutcome, SubmitOutcome } from './job-queue.ts';
import { summarizeJob, type JobDesk, type QueueView } from './job-desk.ts';
import { DeliveryError, replyTargetFromRecord } from '../delivery/reply-target.ts';
import type { ResultStore } from '../results/result-store.ts';
import type { InitImageStore } from '../attachments/init-image-store.ts';
import { FAIL_CLOSED_SAFETY } from '../moderation/nsfw-policy.ts';

export interface JobServiceOptions {
  engine: Engine;
  queue: JobQueue<Job>;
  messenger: DiscordMessenger;
  results: ResultStore;
  outbox: ResultOutbox;
  logger: Logger;
  previewIntervalMs: number;
  uploadLimitBytes: number;
  /** Starting images of img2img jobs. */
  images?: InitImageStore;
  /** Longer side of preview images, in pixels. */
  previewSize?: number;
}

/** Starts after which a job that never finished is abandoned rather than resumed again. */
export const MAX_STARTS = 3;

/** Runs accepted jobs through the queue and the engine, and keeps each job's message up to date. */
export class JobService implements JobDesk {
  readonly #updaters = new Map<string, JobStatusUpdater>();
  /** Queue positions as last shown to each waiting job's owner. */
  readonly #shownPositions = new Map<string, number>();
  /** Final messages being delivered; shutdown waits for them. */
  readonly #finals = new Set<Promise<unknown>>();

  constructor(private readonly options: JobServiceOptions) {
    options.queue.onChange(() => this.#refreshPositions());
  }

  get queue(): JobQueue<Job> {
    return this.options.queue;
  }

  /** The in-process queue is always there. */
  available(): boolean {
    return true;
  }

  /** Holds a queue place for `userId`: check this before acknowledging, submit after. */
  async reserve(userId: string): Promise<ReserveOutcome<Job>> {
    return this.options.queue.reserve(userId);
  }

  async submit(job: Job, reservation?: Reservation<Job>): Promise<SubmitOutcome> {
    return this.submitNow(job, reservation);
  }

  async ownerOf(jobId: string): Promise<string | undefined> {
    return this.options.queue.get(jobId)?.userId;
  }

  async view(): Promise<QueueView> {
    const { running, queued } = this.options.queue.snapshot();
    return { running: running.map(summarizeJob), queued: queued.map(summarizeJob) };
  }

  /** Submits a job in a place reserved earlier (or a fresh one). */
  submitNow(job: Job, reservation?: Reservation<Job>): SubmitOutcome {
    // The seed is settled now, not by the engine, so that a job rerun after a crash makes the same image.
    if (job.request.seed === undefined) job.request = { ...job.request, seed: randomSeed() };
    job.log.info({ userId: job.userId, channelId: job.channelId, request: job.request, parentMessageId: job.parentMessageId }, 'job submitted');
    return this.#enqueue(job, (task) => (reservation ? reservation.submit(job, task) : this.options.queue.submit(job, task)));
  }

  /**
   * Takes up the jobs a durable queue kept across a stop or crash, in their original order; a job that
   * was running starts again from the beginning with its seed. Returns how many were resumed.
   */
  resumeUnfinished(): number {
    const { queue, messenger, logger } = this.options;
    const entries = queue.unfinished?.() ?? [];
    const resubmit = queue.resubmit?.bind(queue);
    if (!resubmit) return 0;
    for (const { job: record, starts } of entries) {
      const log = logger.child({ jobId: record.id });
      const job: Job = {
        id: record.id,
        userId: record.userId,
        guildId: record.guildId,
        channelId: record.channelId,
        request: record.request,
        reply: replyTargetFromRecord(record.reply, messenger, log),
        safety: record.safety ?? FAIL_CLOSED_SAFETY,
        ...(record.parentMessageId ? { parentMessageId: record.parentMessageId } : {}),
        createdAt: record.createdAt,
        resumed: true,
        log,
      };
      if (starts >= MAX_STARTS) {
        // Started this often and never finished: it is taking the bot down. Run it again and it would again.
        log.error({ starts, request: job.request }, 'job abandoned: it was running each time the bot stopped');
        queue.discard?.(job.id);
        void job.reply
          .deliver(failedMessage(job, `This job was running each of the last ${starts} times the bot stopped, so it will not be run again.`))
          .catch((error: unknown) => log.warn({ err: describeDiscordError(error) }, 'could not tell the owner their job was abandoned'));
        continue;
      }
      log.info({ userId: job.userId, channelId: job.channelId, request: job.request, starts }, 'job resumed after a restart');
      this.#enqueue(job, (task) => resubmit(job, task));
    }
    return entries.length;
  }

  #enqueue(job: Job, submit: (task: QueueTask) => SubmitOutcome): SubmitOutcome {
    const updater = jobStatusUpdater(job, { intervalMs: this.options.previewIntervalMs, previewSize: this.options.previewSize });
    this.#updaters.set(job.id, updater);
    const task: QueueTask = {
      run: (signal: AbortSignal) => this.#run(job, updater, signal),
      cancelledWhileQueued: (reason: unknown) => {
        job.log.info({ reason }, 'job cancelled while queued');
        void this.#finish(job, updater, cancelledMessage(job, isCancelReason(reason) ? reason : undefined));
      },
    };
    const outcome = submit(task);
    if (!outcome.accepted) {
      this.#updaters.delete(job.id);
      job.log.info({ reason: outcome.reason }, 'job refused by the queue');
      return outcome;
    }
    if (outcome.position > 0) job.log.info({ position: outcome.position }, 'job queued');
    this.#refreshPositions();
    return outcome;
  }

  async cancel(jobId: string, reason: CancelReason): Promise<'queued' | 'running' | 'unknown'> {
    return this.options.queue.cancel(jobId, reason);
  }

  /**
   * Shutdown: refuses new jobs, cancels waiting ones (their owners are told why), gives running jobs
   * `graceMs` to finish, then cancels them, and waits until every job message is final.
   */
  async shutdown(graceMs: number): Promise<void> {
    const shutdown: CancelReason = { kind: 'shutdown' };
    this.options.queue.close(shutdown);
    const idle = this.options.queue.whenIdle();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceOver = new Promise<'grace-over'>((resolve) => (timer = setTimeout(() => resolve('grace-over'), graceMs)));
    const outcome = await Promise.race([idle.then(() => 'idle' as const), graceOver]);
    clearTimeout(timer);
    if (outcome === 'grace-over') {
      for (const job of this.options.queue.snapshot().running) this.options.queue.cancel(job.id, shutdown);
      await idle;
    }
    await this.#pendingFinals();
  }

  async #pendingFinals(): Promise<void> {
    while (this.#finals.size > 0) await Promise.allSettled([...this.#finals]);
  }

  #refreshPositions(): void {
    const { queued } = this.options.queue.snapshot();
    const waiting = new Set<string>();
    queued.forEach((job, index) => {
      waiting.add(job.id);
      const position = index + 1;
      if (this.#shownPositions.get(job.id) === position) return;
      this.#shownPositions.set(job.id, position);
      this.#updaters.get(job.id)?.push({ kind: 'queued', position });
    });
    for (const id of this.#shownPositions.keys()) if (!waiting.has(id)) this.#shownPositions.delete(id);
  }

  async #run(job: Job, updater: JobStatusUpdater, signal: AbortSignal): Promise<void> {
    const { engine, images } = this.options;
    let finished: { result: GenerateResult; elapsedMs: number };
    try {
      finished = await generateForJob(job, engine, { signal, status: updater, images });
    } catch (error) {
      if (signal.aborted) {
        job.log.info({ reason: signal.reason as unknown }, 'job cancelled while running');
        await this.#finish(job, updater, cancelledMessage(job, isCancelReason(signal.reason) ? signal.reason : undefined));
        return;
      }
      await this.#finish(job, updater, generationFailedMessage(job, error));
      return;
    }
    await this.#deliverResult(job, updater, { ...finished, model: job.request.model ?? engine.info.model.name });
  }

  async #deliverResult(job: Job, updater: JobStatusUpdater, finished: JobResult): Promise<void> {
    const deliver = await prepareResultDelivery(job, this.options.engine, finished, this.options);
    this.#forget(job);
    const outcome = await this.#untilDelivered(updater.finish(deliver));
    await recordDelivery(job, outcome, finished, this.options);
  }

  /** Replaces the job's status with its final message; never throws (failures are logged). */
  async #finish(job: Job, updater: JobStatusUpdater, message: OutgoingMessage) {
    this.#forget(job);
    try {
      return await this.#untilDelivered(updater.finish(() => job.reply.deliver(message)));
    } catch (error) {
      if (!(error instanceof DeliveryError)) job.log.error({ err: describeDiscordError(error) }, 'could not deliver the final message');
      return undefined;
    }
  }

  /** The job's message takes no more status updates. */
  #forget(job: Job): void {
    this.#updaters.delete(job.id);
    this.#shownPositions.delete(job.id);
  }

  /** A final message being delivered: shutdown waits for it. */
  async #untilDelivered<T>(delivery: Promise<T>): Promise<T> {
    this.#finals.add(delivery);
    try {
      return await delivery;
    } finally {
      this.#finals.delete(delivery);
    }
  }
}
