import { keepForOwner, resultMessageBuilder } from '../bot/delivery/result-message.ts';
import type { Logger } from 'pino';
import { CoalescingUpdater } from '../bot/delivery/coalescing-updater.ts';
import { REROLL_EMOJI } from '../bot/interactions/custom-ids.ts';
import { describeDiscordError, retryAfterMs } from '../bot/delivery/discord-errors.ts';
import type { DiscordMessenger, OutgoingMessage, SentMessage } from '../bot/delivery/discord-messenger.ts';
import { previewFile } from '../bot/delivery/images.ts';
import { runsSafetyCheck, type CancelReason, type Job } from '../bot/jobs/job.ts';
import { cancelledMessage, failedMessage, progressMessage, startingMessage } from '../bot/delivery/job-messages.ts';
import type { DeliveryMarker } from '../bot/jobs/bullmq/delivery-marker.ts';
import { deliverResult, type DeliveryOutcome } from '../bot/delivery/result-delivery.ts';
import type { ResultOutbox } from '../bot/results/result-outbox.ts';
import type { ResultStore } from '../bot/results/result-store.ts';
import { engineRequest, InitImageMissingError, type InitImageStore } from '../bot/attachments/init-image-store.ts';
import { EngineError, type Engine, type GenerateResult, type GenerationProgress } from '../engine/types.ts';
import { servedModelOf } from '../bot/models/served-models.ts';

export interface JobRunnerOptions {
  messenger: DiscordMessenger;
  results: ResultStore;
  /** Finished images until they reach their owner (/imagine-history reads it on the gateway). */
  outbox: ResultOutbox;
  marker: DeliveryMarker;
  logger: Logger;
  previewIntervalMs: number;
  uploadLimitBytes: number;
  /** Starting images of img2img jobs, kept by the gateway. */
  images?: InitImageStore;
  /** Longer side of preview images, in pixels. */
  previewSize?: number;
}

/** Why a running job was stopped: a user's cancel, or this worker handing it back to the queue. */
export type StopReason = CancelReason | { kind: 'hand-back' };

/**
 * How a run ended. `handed-back` and `abandoned` send no final message: the job runs again elsewhere
 * (handed back on shutdown; abandoned when this worker lost its lock and BullMQ gave the job away).
 */
export type RunEnd = 'delivered' | 'already-delivered' | 'cancelled' | 'failed' | 'handed-back' | 'abandoned';

/** Another worker is sending this job's final message right now; BullMQ retries the job later. */
export class DeliveryInProgressError extends Error {
  override readonly name = 'DeliveryInProgressError';
}

/** Tries of a delivery record before the job is left to BullMQ's retry (about a minute in all). */
const PERSIST_ATTEMPTS = 6;

type StatusUpdate = { kind: 'starting' } | { kind: 'progress'; progress: GenerationProgress };

/**
 * Runs one job on a worker: generation with previews edited straight into the user's Discord message
 * (throttled, 429-aware), then the final message exactly once through the delivery marker, by the
 * embedded mode's delivery chain (reply or channel, then DM; the image kept in the outbox meanwhile).
 */
export class JobRunner {
  constructor(private readonly options: JobRunnerOptions) {}

  async run(
    job: Job,
    engine: Engine,
    signal: AbortSignal,
    stopReason: () => StopReason | undefined,
    onProgress: (progress: GenerationProgress) => void,
  ): Promise<RunEnd> {
    if (await this.options.marker.isDelivered(job.id)) {
      job.log.info('job already delivered before a rerun; nothing to do');
      return 'already-delivered';
    }
    const updater = this.#createUpdater(job);
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
          onProgress(progress);
          updater.push({ kind: 'progress', progress });
        },
      });
    } catch (error) {
      if (signal.aborted) {
        const reason = stopReason();
        if (reason?.kind === 'hand-back') {
          updater.stop();
          job.log.info('job handed back to the queue');
          return 'handed-back';
        }
        if (!reason) {
          updater.stop();
          job.log.warn('job stopped without a cancel: this worker lost its lock, the job runs elsewhere');
          return 'abandoned';
        }
        job.log.info({ reason }, 'job cancelled while running');
        return (await this.finish(job, updater, cancelledMessage(job, reason))) ? 'cancelled' : 'already-delivered';
      }
      const userSafe = error instanceof EngineError || error instanceof InitImageMissingError;
      if (userSafe) job.log.warn({ err: error }, 'engine refused or failed the job');
      else job.log.error({ err: error }, 'job failed unexpectedly');
      await this.finish(job, updater, failedMessage(job, userSafe ? error.message : undefined));
      return 'failed';
    }
    return this.#deliverResult(job, engine, updater, result, Date.now() - startedAt);
  }

  /** A job cancelled before it started here. */
  async cancelled(job: Job, reason: CancelReason | undefined): Promise<void> {
    await this.finish(job, this.#createUpdater(job), cancelledMessage(job, reason));
  }

  async #deliverResult(job: Job, engine: Engine, updater: CoalescingUpdater<StatusUpdate>, result: GenerateResult, elapsedMs: number): Promise<RunEnd> {
    const { messenger, outbox, uploadLimitBytes, marker } = this.options;
    const model = engine.info.model.name;
    const claim = await this.#claim(job, updater);
    if (!claim) return 'already-delivered';
    await keepForOwner(outbox, job, result);
    const build = resultMessageBuilder(job, result, { model, elapsedMs, img2img: servedModelOf(engine, job.request.model).capabilities.img2img });
    const outcome: DeliveryOutcome = await updater.finish(() =>
      deliverResult(build, { messenger, reply: job.reply, ownerId: job.userId, channelId: job.channelId, uploadLimitBytes, logger: job.log }),
    );
    if (!outcome.delivered) {
      await this.#persist(job, () => marker.markDelivered(job.id, 'undeliverable'));
      await outbox.undelivered(job.id, outcome.reason).catch((error: unknown) => job.log.error({ err: error }, 'could not record the failed delivery'));
      await job.reply
        .deliver(failedMessage(job, 'I made your image but could not deliver it. Use /imagine-history to get it.'))
        .catch(() => job.log.warn('could not tell the owner where their image is'));
      return 'failed';
    }
    const { sent, route } = outcome;
    await this.#persist(job, () => marker.markDelivered(job.id, `${route}:${sent.channelId}/${sent.id}`));
    await outbox
      .delivered(job.id, { route, channelId: sent.channelId, messageId: sent.id })
      .catch((error: unknown) => job.log.error({ err: error }, 'could not record the delivery'));
    if (route === 'reply') await this.#rememberResult(job, model, result, sent);
    job.log.info({ messageId: sent.id, route, seed: result.request.seed, elapsedMs }, 'job delivered');
    return 'delivered';
  }

  /** Stores the parameters for rerolls and adds the reroll reaction. */
  async #rememberResult(job: Job, model: string, result: GenerateResult, sent: SentMessage): Promise<void> {
    await this.options.results
      .save({
        jobId: job.id,
        ownerId: job.userId,
        guildId: job.guildId,
        channelId: sent.channelId,
        messageId: sent.id,
        request: result.request,
        ...(job.request.initImageId ? { initImageId: job.request.initImageId } : {}),
        model,
        ...(job.parentMessageId ? { parentMessageId: job.parentMessageId } : {}),
        createdAt: Date.now(),
      })
      .catch((error: unknown) => job.log.error({ err: error }, 'could not store the result for rerolls'));
    await this.options.messenger
      .addReaction(sent.channelId, sent.id, REROLL_EMOJI)
      .catch((error: unknown) => job.log.warn({ err: describeDiscordError(error) }, 'could not add the reroll reaction'));
  }

  /**
   * Claims the job's final message across every worker and rerun. False when an earlier run already
   * delivered it; throws (BullMQ retries the job later) while another worker is delivering it.
   */
  async #claim(job: Job, updater: CoalescingUpdater<StatusUpdate>): Promise<boolean> {
    const claim = await this.options.marker.claim(job.id);
    if (claim === 'claimed') return true;
    updater.stop();
    if (claim === 'delivered') {
      job.log.info('final message already sent by an earlier run');
      return false;
    }
    throw new DeliveryInProgressError(`job ${job.id}: another worker is delivering it`);
  }

  /**
   * A final status message (cancelled, failed), at most once across every worker and rerun: claimed
   * in Redis first, marked done after. Undefined when it was already delivered (or could not be).
   */
  async finish(job: Job, updater: CoalescingUpdater<StatusUpdate>, message: OutgoingMessage): Promise<SentMessage | undefined> {
    const { marker } = this.options;
    if (!(await this.#claim(job, updater))) return undefined;
    let sent: SentMessage;
    try {
      sent = await updater.finish(() => job.reply.deliver(message));
    } catch (error) {
      // Retrying would not help (e.g. no permission to post anywhere); recorded so a rerun does not try again.
      job.log.error({ err: describeDiscordError(error) }, 'could not deliver the final message');
      await this.#persist(job, () => marker.markDelivered(job.id, 'undeliverable'));
      return undefined;
    }
    await this.#persist(job, () => marker.markDelivered(job.id, `${sent.channelId}/${sent.id}`));
    return sent;
  }

  /**
   * Retries a Redis write that must not be lost now that the message is out (Redis may be restarting:
   * the retry waits in the client's offline queue until it is back). Throws after the last try, and
   * BullMQ reruns the job, whose delivery then edits the same message again.
   */
  async #persist(job: Job, write: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (attempt >= PERSIST_ATTEMPTS) throw error;
        job.log.warn({ err: error instanceof Error ? error.message : String(error), attempt }, 'could not record the delivery yet; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
      }
    }
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
    if (update.kind === 'starting') return startingMessage(job);
    const { preview } = update.progress;
    return progressMessage(job, update.progress, preview ? await previewFile(preview, this.options.previewSize) : undefined);
  }
}
