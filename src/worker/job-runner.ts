import type { Logger } from 'pino';
import { describeDiscordError } from '../bot/delivery/discord-errors.ts';
import type { DiscordMessenger, OutgoingMessage, SentMessage } from '../bot/delivery/discord-messenger.ts';
import type { CancelReason, Job } from '../bot/jobs/job.ts';
import { cancelledMessage } from '../bot/delivery/job-messages.ts';
import { jobStatusUpdater, type JobStatusUpdater } from '../bot/delivery/job-status.ts';
import { prepareResultDelivery, recordDelivery, type JobResult } from '../bot/delivery/job-result.ts';
import type { DeliveryMarker } from '../bot/jobs/bullmq/delivery-marker.ts';
import { generateForJob, generationFailedMessage } from '../bot/jobs/job-generation.ts';
import type { ResultOutbox } from '../bot/results/result-outbox.ts';
import type { ResultStore } from '../bot/results/result-store.ts';
import type { InitImageStore } from '../bot/attachments/init-image-store.ts';
import type { Engine, GenerateResult, GenerationProgress } from '../engine/types.ts';

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
    let finished: { result: GenerateResult; elapsedMs: number };
    try {
      finished = await generateForJob(job, engine, { signal, status: updater, images: this.options.images, onProgress });
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
      await this.finish(job, updater, generationFailedMessage(job, error));
      return 'failed';
    }
    return this.#deliverResult(job, engine, updater, { ...finished, model: engine.info.model.name });
  }

  /** A job cancelled before it started here. */
  async cancelled(job: Job, reason: CancelReason | undefined): Promise<void> {
    await this.finish(job, this.#createUpdater(job), cancelledMessage(job, reason));
  }

  async #deliverResult(job: Job, engine: Engine, updater: JobStatusUpdater, finished: JobResult): Promise<RunEnd> {
    if (!(await this.#claim(job, updater))) return 'already-delivered';
    const deliver = await prepareResultDelivery(job, engine, finished, this.options);
    const outcome = await updater.finish(deliver);
    const where = outcome.delivered ? `${outcome.route}:${outcome.sent.channelId}/${outcome.sent.id}` : 'undeliverable';
    await this.#persist(job, () => this.options.marker.markDelivered(job.id, where));
    await recordDelivery(job, outcome, finished, this.options);
    return outcome.delivered ? 'delivered' : 'failed';
  }

  /**
   * Claims the job's final message across every worker and rerun. False when an earlier run already
   * delivered it; throws (BullMQ retries the job later) while another worker is delivering it.
   */
  async #claim(job: Job, updater: JobStatusUpdater): Promise<boolean> {
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
  async finish(job: Job, updater: JobStatusUpdater, message: OutgoingMessage): Promise<SentMessage | undefined> {
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

  #createUpdater(job: Job): JobStatusUpdater {
    return jobStatusUpdater(job, { intervalMs: this.options.previewIntervalMs, previewSize: this.options.previewSize });
  }
}
