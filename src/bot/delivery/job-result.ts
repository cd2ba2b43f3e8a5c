import type { Engine, GenerateResult } from '../../engine/types.ts';
import { REROLL_EMOJI } from '../interactions/custom-ids.ts';
import type { Job } from '../jobs/job.ts';
import { servedModelOf } from '../models/served-models.ts';
import type { ResultOutbox } from '../results/result-outbox.ts';
import type { ResultStore } from '../results/result-store.ts';
import { describeDiscordError } from './discord-errors.ts';
import type { DiscordMessenger, SentMessage } from './discord-messenger.ts';
import { failedMessage } from './job-messages.ts';
import { deliverResult, type DeliveryOutcome } from './result-delivery.ts';
import { keepForOwner, resultMessageBuilder } from './result-message.ts';

/*
 * A finished job's images, from the engine to their owner and into the records, the same in the
 * embedded job service and on a distributed worker (which also marks the delivery in Redis between).
 */

export interface JobResult {
  result: GenerateResult;
  /** The model named on the result and kept for rerolls. */
  model: string;
  elapsedMs: number;
}

export interface JobResultServices {
  messenger: DiscordMessenger;
  outbox: ResultOutbox;
  results: ResultStore;
  uploadLimitBytes: number;
}

/**
 * Keeps the images for their owner (so that no failure below loses them) and returns the delivery to
 * run: by reply or channel, then DM.
 */
export async function prepareResultDelivery(
  job: Job,
  engine: Engine,
  { result, model, elapsedMs }: JobResult,
  { messenger, outbox, uploadLimitBytes }: JobResultServices,
): Promise<() => Promise<DeliveryOutcome>> {
  await keepForOwner(outbox, job, result);
  const build = resultMessageBuilder(job, result, { model, elapsedMs, img2img: servedModelOf(engine, job.request.model).capabilities.img2img });
  return () => deliverResult(build, { messenger, reply: job.reply, ownerId: job.userId, channelId: job.channelId, uploadLimitBytes, logger: job.log });
}

/**
 * After the delivery: the outbox records where the images went, and a reply keeps its parameters for
 * rerolls with the reroll reaction; when nothing could be delivered, the owner is told where to find
 * them. Failures here are logged, never thrown: the images are out, or kept.
 */
export async function recordDelivery(job: Job, outcome: DeliveryOutcome, finished: JobResult, services: JobResultServices): Promise<void> {
  const { outbox } = services;
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
  if (route === 'reply') await rememberResult(job, finished, sent, services);
  job.log.info({ messageId: sent.id, route, seed: finished.result.request.seed, elapsedMs: finished.elapsedMs }, 'job delivered');
}

/** Stores the parameters for rerolls and adds the reroll reaction. */
async function rememberResult(job: Job, { result, model }: JobResult, sent: SentMessage, { messenger, results }: JobResultServices): Promise<void> {
  await results
    .save({
      jobId: job.id,
      ownerId: job.userId,
      guildId: job.guildId,
      channelId: sent.channelId,
      messageId: sent.id,
      request: result.request,
      model,
      ...(job.request.initImageId ? { initImageId: job.request.initImageId } : {}),
      ...(job.parentMessageId ? { parentMessageId: job.parentMessageId } : {}),
      createdAt: Date.now(),
    })
    .catch((error: unknown) => job.log.error({ err: error }, 'could not store the result for rerolls'));
  await messenger
    .addReaction(sent.channelId, sent.id, REROLL_EMOJI)
    .catch((error: unknown) => job.log.warn({ err: describeDiscordError(error) }, 'could not add the reroll reaction'));
}
