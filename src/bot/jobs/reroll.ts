import { randomSeed } from '../../engine/request.ts';
import { LIMITS } from '../../engine/types.ts';
import { findBannedWord } from '../settings/banned-words.ts';
import type { BotContext } from '../context.ts';
import { describeDiscordError, isMissingPermissions } from '../delivery/discord-errors.ts';
import type { BotRequest } from './imagine-request.ts';
import { effectiveMax } from './imagine-request.ts';
import { admissionRefusal, QUEUE_UNAVAILABLE } from '../interactions/interaction-replies.ts';
import { newJobId, type Job } from './job.ts';
import { promptExcerpt } from '../delivery/job-messages.ts';
import { ChannelReply } from '../delivery/reply-target.ts';
import type { ResultRecord } from '../results/result-store.ts';
import { INIT_IMAGE_GONE } from '../attachments/init-image-store.ts';

export type RerollOutcome = { ok: true; jobId: string } | { ok: false; message: string };

/** A seed other than `previous`, so that a reroll always shows a new image. */
export function freshSeed(previous: number): number {
  let seed = previous;
  while (seed === previous) seed = randomSeed();
  return seed;
}

/** Runs a stored result again with a new seed (reactions have no interaction to answer through). */
export async function startReroll(context: BotContext, record: ResultRecord, userId: string): Promise<RerollOutcome> {
  const { seed, ...rest } = record.request;
  if (rest.strength !== undefined && record.initImageId === undefined) return { ok: false, message: INIT_IMAGE_GONE };
  const request: BotRequest = { ...rest, seed: freshSeed(seed), ...(record.initImageId ? { initImageId: record.initImageId } : {}) };
  return startFromResult(context, record, userId, request, `🔁 <@${userId}> rerolled this.`);
}

/**
 * Starts a job made from a stored result (reroll, variation, upscale), posted as a channel message
 * replying to that result. The channel's current rules apply, not the ones in force when the result was made.
 */
export async function startFromResult(context: BotContext, record: ResultRecord, userId: string, request: BotRequest, headline: string): Promise<RerollOutcome> {
  if (!context.jobs.available()) return { ok: false, message: QUEUE_UNAVAILABLE };
  let settings;
  try {
    settings = await context.settings.get(record.channelId);
  } catch (error) {
    context.logger.error({ err: error, channelId: record.channelId }, 'channel settings unreadable; reroll refused');
    return { ok: false, message: "I cannot read this channel's settings right now, so I am not taking jobs here. Please try again later." };
  }
  if (!settings.enabled) return { ok: false, message: '/imagine is turned off in this channel.' };
  const banned = findBannedWord(request.prompt, settings.bannedWords);
  if (banned !== undefined) return { ok: false, message: `That prompt contains “${banned}”, which is no longer allowed in this channel.` };
  const maxSteps = effectiveMax(settings.maxSteps, LIMITS.steps.max);
  if (request.steps > maxSteps) return { ok: false, message: `This channel now allows at most ${maxSteps} steps.` };
  const maxCount = effectiveMax(settings.maxCount, LIMITS.count.max);
  if (request.count > maxCount) return { ok: false, message: `This channel now allows at most ${maxCount} images per job.` };
  const place = await context.jobs.reserve(userId);
  if (!place.accepted) return { ok: false, message: admissionRefusal(place) };

  const jobId = newJobId();
  const log = context.logger.child({ jobId });
  let reply: ChannelReply;
  try {
    reply = await ChannelReply.post(
      { messenger: context.messenger, channelId: record.channelId, replyTo: record.messageId, logger: log },
      { content: `${headline}\n> ${promptExcerpt(request.prompt)}` },
    );
  } catch (error) {
    place.reservation.release();
    log.error({ err: describeDiscordError(error) }, 'could not post the reroll message');
    const why = isMissingPermissions(error) ? 'I am missing permissions to post in this channel' : 'I could not post in this channel';
    return { ok: false, message: `${why} (job id \`${jobId}\`).` };
  }
  const job: Job = {
    id: jobId,
    userId,
    guildId: record.guildId,
    channelId: record.channelId,
    request,
    reply,
    parentMessageId: record.messageId,
    createdAt: Date.now(),
    log,
  };
  const outcome = await context.jobs.submit(job, place.reservation);
  if (!outcome.accepted) {
    const message = admissionRefusal(outcome);
    await reply.deliver({ content: `🔁 ${message}` }).catch(() => undefined);
    return { ok: false, message };
  }
  return { ok: true, jobId };
}
