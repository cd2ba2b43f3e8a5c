import { keepForOwner, resultMessageBuilder } from '../delivery/result-message.ts';
import type { Logger } from 'pino';
import { randomSeed } from '../../engine/request.ts';
import { EngineError, type Engine, type GenerateResult, type GenerationProgress } from '../../engine/types.ts';
import { CoalescingUpdater } from '../delivery/coalescing-updater.ts';
import { REROLL_EMOJI } from '../interactions/custom-ids.ts';
import { describeDiscordError, retryAfterMs } from '../delivery/discord-errors.ts';
import type { DiscordMessenger, OutgoingMessage, SentMessage } from '../delivery/discord-messenger.ts';
import { deliverResult, type DeliveryOutcome } from '../delivery/result-delivery.ts';
import type { ResultOutbox } from '../results/result-outbox.ts';
import { previewFile } from '../delivery/images.ts';
import { isCancelReason, runsSafetyCheck, type CancelReason, type Job } from './job.ts';
import { cancelledMessage, failedMessage, progressMessage, queuedMessage, startingMessage } from '../delivery/job-messages.ts';
import type { JobQueue, QueueTask, Reservation, ReserveOutcome, SubmitOutcome } from './job-queue.ts';
import { summarizeJob, type JobDesk, type QueueView } from './job-desk.ts';
import { DeliveryError, replyTargetFromRecord } from '../delivery/reply-target.ts';
import type { ResultStore } from '../results/result-store.ts';
import { engineRequest, InitImageMissingError, type InitImageStore } from '../attachments/init-image-store.ts';
import { servedModelOf } from '../models/served-models.ts';
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

type StatusUpdate = { kind: 'queued'; position: number } | { kind: 'starting' } | { kind: 'progress'; progress: GenerationProgress };

/** Runs accepted jobs through the queue and the engine, and keeps each job's message up to date. */
export class JobService implements JobDesk {
  readonly #updaters = new Map<string, CoalescingUpdater<StatusUpdate>>();
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
    const updater = this.#createUpdater(job);
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

  #createUpdater(job: Job): CoalescingUpdater<StatusUpdate> {
    return new CoalescingUpdater<StatusUpdate>({
      intervalMs: this.options.previewIntervalMs,
      send: async (update) => job.reply.update(await this.#statusMessage(job, update)),
      retryAfterMs,
      onError: (error) => job.log.debug({ err: describeDiscordError(error) }, 'status edit failed (next one will catch up)'),
    });
  }

  async #statusMessage(job: Job, update: StatusUpdate): Promise<OutgoingMessage> {
    switch (update.kind) {
      case 'queued':
        return queuedMessage(job, update.position);
      case 'starting':
        return startingMessage(job);
      case 'progress': {
        const { preview } = update.progress;
        return progressMessage(job, update.progress, preview ? await previewFile(preview, this.options.previewSize) : undefined);
      }
    }
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

  async #run(job: Job, updater: CoalescingUpdater<StatusUpdate>, signal: AbortSignal): Promise<void> {
    const { engine } = this.options;
    job.log.info('job started');
    updater.push({ kind: 'starting' });
    const startedAt = Date.now();
    let result: GenerateResult;
    try {
      result = await engine.generate(await engineRequest(job.request, this.options.images), {
        signal,
        safetyCheck: runsSafetyCheck(job),
        previewEvery: 1,
        onProgress: (progress) => {
          job.progress = progress;
          updater.push({ kind: 'progress', progress });
        },
      });
    } catch (error) {
      if (signal.aborted) {
        job.log.info({ reason: signal.reason as unknown }, 'job cancelled while running');
        await this.#finish(job, updater, cancelledMessage(job, isCancelReason(signal.reason) ? signal.reason : undefined));
        return;
      }
      if (error instanceof EngineError || error instanceof InitImageMissingError) {
        job.log.warn({ err: error }, 'engine refused or failed the job');
        await this.#finish(job, updater, failedMessage(job, error.message));
        return;
      }
      job.log.error({ err: error }, 'job failed unexpectedly');
      await this.#finish(job, updater, failedMessage(job, undefined));
      return;
    }
    await this.#deliverResult(job, updater, result, Date.now() - startedAt);
  }

  async #deliverResult(job: Job, updater: CoalescingUpdater<StatusUpdate>, result: GenerateResult, elapsedMs: number): Promise<void> {
    const { engine, messenger, outbox, uploadLimitBytes } = this.options;
    await keepForOwner(outbox, job, result);
    const build = resultMessageBuilder(job, result, { model: job.request.model ?? engine.info.model.name, elapsedMs, img2img: servedModelOf(engine, job.request.model).capabilities.img2img });

    this.#updaters.delete(job.id);
    this.#shownPositions.delete(job.id);
    const delivery = updater.finish(() =>
      deliverResult(build, { messenger, reply: job.reply, ownerId: job.userId, channelId: job.channelId, uploadLimitBytes, logger: job.log }),
    );
    this.#finals.add(delivery);
    let outcome: DeliveryOutcome;
    try {
      outcome = await delivery;
    } finally {
      this.#finals.delete(delivery);
    }

    if (!outcome.delivered) {
      await outbox.undelivered(job.id, outcome.reason).catch((error: unknown) => job.log.error({ err: error }, 'could not record the failed delivery'));
      await job.reply
        .deliver(failedMessage(job, 'I made your image but could not deliver it. Use /imagine-history to get it.'))
        .catch(() => job.log.warn('could not tell the owner where their image is'));
      return;
    }
    const { sent, route } = outcome;
    await outbox
      .delivered(job.id, { route, channelId: sent.channelId, messageId: sent.id })
      .catch((error: unknown) => job.log.error({ err: error }, 'could not record the delivery'));
    if (route === 'reply') await this.#rememberResult(job, result, sent);
    job.log.info({ messageId: sent.id, route, seed: result.request.seed, elapsedMs }, 'job delivered');
  }

  /** Stores the parameters for rerolls and adds the reroll reaction. */
  async #rememberResult(job: Job, result: GenerateResult, sent: SentMessage): Promise<void> {
    const { engine, messenger, results } = this.options;
    await results
      .save({
        jobId: job.id,
        ownerId: job.userId,
        guildId: job.guildId,
        channelId: sent.channelId,
        messageId: sent.id,
        request: result.request,
        model: job.request.model ?? engine.info.model.name,
        ...(job.request.initImageId ? { initImageId: job.request.initImageId } : {}),
        ...(job.parentMessageId ? { parentMessageId: job.parentMessageId } : {}),
        createdAt: Date.now(),
      })
      .catch((error: unknown) => job.log.error({ err: error }, 'could not store the result for rerolls'));
    await messenger
      .addReaction(sent.channelId, sent.id, REROLL_EMOJI)
      .catch((error: unknown) => job.log.warn({ err: describeDiscordError(error) }, 'could not add the reroll reaction'));
  }

  /** Replaces the job's status with its final message; never throws (failures are logged). */
  async #finish(job: Job, updater: CoalescingUpdater<StatusUpdate>, message: OutgoingMessage) {
    this.#updaters.delete(job.id);
    this.#shownPositions.delete(job.id);
    const delivery = updater.finish(() => job.reply.deliver(message));
    this.#finals.add(delivery);
    try {
      return await delivery;
    } catch (error) {
      if (!(error instanceof DeliveryError)) job.log.error({ err: describeDiscordError(error) }, 'could not deliver the final message');
      return undefined;
    } finally {
      this.#finals.delete(delivery);
    }
  }
}
