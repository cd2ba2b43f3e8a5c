import type { Logger } from 'pino';
import { EngineError, type Engine, type GenerateResult, type GenerationProgress } from '../engine/types.ts';
import { CoalescingUpdater } from './coalescing-updater.ts';
import { REROLL_EMOJI } from './custom-ids.ts';
import { describeDiscordError, retryAfterMs } from './discord-errors.ts';
import type { DiscordMessenger, OutgoingMessage } from './discord-messenger.ts';
import { enlargeSmallPng, previewFile, resultFiles } from './images.ts';
import { isCancelReason, type CancelReason, type Job } from './job.ts';
import { cancelledMessage, failedMessage, progressMessage, queuedMessage, resultRow, startingMessage } from './job-messages.ts';
import type { JobQueue, Reservation, ReserveOutcome, SubmitOutcome } from './job-queue.ts';
import { DeliveryError } from './reply-target.ts';
import { buildResultEmbed } from './result-embed.ts';
import type { ResultStore } from './result-store.ts';

export interface JobServiceOptions {
  engine: Engine;
  queue: JobQueue<Job>;
  messenger: DiscordMessenger;
  results: ResultStore;
  logger: Logger;
  previewIntervalMs: number;
  uploadLimitBytes: number;
  /** Longer side of preview images, in pixels. */
  previewSize?: number;
}

type StatusUpdate = { kind: 'queued'; position: number } | { kind: 'starting' } | { kind: 'progress'; progress: GenerationProgress };

/** Runs accepted jobs through the queue and the engine, and keeps each job's message up to date. */
export class JobService {
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

  /** Holds a queue place for `userId`: check this before acknowledging, submit after. */
  reserve(userId: string): ReserveOutcome<Job> {
    return this.options.queue.reserve(userId);
  }

  /** Submits a job in a place reserved earlier (or a fresh one). */
  submit(job: Job, reservation?: Reservation<Job>): SubmitOutcome {
    job.log.info({ userId: job.userId, channelId: job.channelId, request: job.request, parentMessageId: job.parentMessageId }, 'job submitted');
    const updater = this.#createUpdater(job);
    this.#updaters.set(job.id, updater);
    const task = {
      run: (signal: AbortSignal) => this.#run(job, updater, signal),
      cancelledWhileQueued: (reason: unknown) => {
        job.log.info({ reason }, 'job cancelled while queued');
        void this.#finish(job, updater, cancelledMessage(job, isCancelReason(reason) ? reason : undefined));
      },
    };
    const outcome = reservation ? reservation.submit(job, task) : this.options.queue.submit(job, task);
    if (!outcome.accepted) {
      this.#updaters.delete(job.id);
      job.log.info({ reason: outcome.reason }, 'job refused by the queue');
      return outcome;
    }
    if (outcome.position > 0) job.log.info({ position: outcome.position }, 'job queued');
    this.#refreshPositions();
    return outcome;
  }

  cancel(jobId: string, reason: CancelReason): 'queued' | 'running' | 'unknown' {
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
      result = await engine.generate(job.request, {
        signal,
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
      if (error instanceof EngineError) {
        job.log.warn({ err: error, code: error.code }, 'engine refused or failed the job');
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
    const { engine, messenger, results, uploadLimitBytes } = this.options;
    try {
      const files = await resultFiles(
        await Promise.all(result.images.map((image) => enlargeSmallPng(image.png))),
        `imagine-${result.request.seed}`,
        uploadLimitBytes,
      );
      const parentUrl =
        job.parentMessageId && job.guildId
          ? `https://discord.com/channels/${job.guildId}/${job.channelId}/${job.parentMessageId}`
          : undefined;
      const embed = buildResultEmbed({
        request: result.request,
        model: engine.info.model.name,
        elapsedMs,
        jobId: job.id,
        ...(files.length === 1 && files[0] ? { imageName: files[0].name } : {}),
        ...(parentUrl ? { parentUrl } : {}),
      });
      const message: OutgoingMessage = { content: `<@${job.userId}>`, embeds: [embed], files, components: [resultRow()] };
      const sent = await this.#finish(job, updater, message);
      if (!sent) return;
      await results
        .save({
          jobId: job.id,
          ownerId: job.userId,
          guildId: job.guildId,
          channelId: sent.channelId,
          messageId: sent.id,
          request: result.request,
          model: engine.info.model.name,
          ...(job.parentMessageId ? { parentMessageId: job.parentMessageId } : {}),
          createdAt: Date.now(),
        })
        .catch((error: unknown) => job.log.error({ err: error }, 'could not store the result for rerolls'));
      await messenger
        .addReaction(sent.channelId, sent.id, REROLL_EMOJI)
        .catch((error: unknown) => job.log.warn({ err: describeDiscordError(error) }, 'could not add the reroll reaction'));
      job.log.info({ messageId: sent.id, seed: result.request.seed, elapsedMs }, 'job delivered');
    } catch (error) {
      job.log.error({ err: error }, 'could not prepare the result');
      await this.#finish(job, updater, failedMessage(job, undefined));
    }
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
