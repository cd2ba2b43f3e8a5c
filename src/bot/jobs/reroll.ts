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
import { cooldownRefusal } from '../moderation/cooldown.ts';
import type { CommandUser } from '../moderation/command-permissions.ts';
import { INIT_IMAGE_GONE } from '../attachments/init-image-store.ts';
import { checkSafety } from '../moderation/safety-check.ts';
import type { SafetyHandling } from '../moderation/nsfw-policy.ts';

export type RerollOutcome = { ok: true; jobId: string } | { ok: false; message: string };

/** A seed other than `previous`, so that a reroll always shows a new image. */
export function freshSeed(previous: number): number {
  let seed = previous;
  while (seed === previous) seed = randomSeed();
  return seed;
}

/** 🔁 🎨 ⬆️ ✏️ are /imagine by other means: the server's per-command overrides for /imagine apply to them too. */
async function commandPermissionRefusal(context: BotContext, where: { guildId: string; channelId: string }, who: CommandUser): Promise<string | undefined> {
  try {
    if (await context.commandPermissions.mayUse('imagine', where, who)) return undefined;
    return 'You are not allowed to use /imagine in this channel, so you cannot reroll, vary, upscale or edit its results here either.';
  } catch (error) {
    // Fail closed: without the overrides we cannot know the member may use the command here.
    context.logger.error({ err: describeDiscordError(error), ...where }, 'command permissions unreadable; reroll refused');
    return 'I cannot check your permissions for /imagine right now. Please try again shortly.';
  }
}

/** Runs a stored result again with a new seed (reactions have no interaction to answer through). */
export async function startReroll(context: BotContext, record: ResultRecord, who: CommandUser): Promise<RerollOutcome> {
  const { seed, ...rest } = record.request;
  if (rest.strength !== undefined && record.initImageId === undefined) return { ok: false, message: INIT_IMAGE_GONE };
  const request: BotRequest = { ...rest, seed: freshSeed(seed), model: record.model, ...(record.initImageId ? { initImageId: record.initImageId } : {}) };
  return startFromResult(context, record, who, request, `🔁 <@${who.userId}> rerolled this.`);
}

type AdmissionCheck = { ok: true; safety: SafetyHandling } | { ok: false; message: string };

/**
 * Whether a job made from a stored result may run now. The channel's current rules apply, not the ones
 * in force when the result was made, and every such action is /imagine by other means: the channel's
 * switch, banned words and maxima, the allowed models, the NSFW rules, the per-command permission
 * overrides for /imagine and the per-member cooldown. Checked before any work (a button's download) too.
 */
export async function checkFromResult(context: BotContext, record: ResultRecord, who: CommandUser, request: BotRequest): Promise<AdmissionCheck> {
  if (!context.jobs.available()) return { ok: false, message: QUEUE_UNAVAILABLE };
  let settings;
  let settingsChannelId: string;
  try {
    // A result in a thread follows its parent channel's rules, as /imagine there does.
    settingsChannelId = await context.channels.settingsChannelId(record.channelId);
    settings = await context.settings.get(settingsChannelId);
  } catch (error) {
    context.logger.error({ err: error, channelId: record.channelId }, 'channel settings unreadable; reroll refused');
    return { ok: false, message: "I cannot read this channel's settings right now, so I am not taking jobs here. Please try again later." };
  }
  if (!settings.enabled) return { ok: false, message: '/imagine is turned off in this channel.' };
  if (record.guildId !== null) {
    const refusal = await commandPermissionRefusal(context, { guildId: record.guildId, channelId: settingsChannelId }, who);
    if (refusal !== undefined) return { ok: false, message: refusal };
  }
  const banned = findBannedWord(request.prompt, settings.bannedWords);
  if (banned !== undefined) return { ok: false, message: `That prompt contains “${banned}”, which is no longer allowed in this channel.` };
  const maxSteps = effectiveMax(settings.maxSteps, LIMITS.steps.max);
  if (request.steps > maxSteps) return { ok: false, message: `This channel now allows at most ${maxSteps} steps.` };
  const model = request.model ?? record.model;
  if (settings.allowedModels !== undefined && !settings.allowedModels.includes(model)) {
    return { ok: false, message: `${model} is no longer allowed in this channel.` };
  }
  const maxCount = effectiveMax(settings.maxCount, LIMITS.count.max);
  if (request.count > maxCount) return { ok: false, message: `This channel now allows at most ${maxCount} images per job.` };
  const served = (await context.models.list()).find((candidate) => candidate.name === model);
  if (!served) return { ok: false, message: `${model} is no longer served here.` };
  const safe = await checkSafety(context, { guildId: record.guildId, channelId: record.channelId }, settings, served);
  if (!safe.ok) return safe;
  const wait = context.moderation.rerollCooldown.remainingMs(who.userId);
  if (wait > 0) return { ok: false, message: cooldownRefusal(wait) };
  return safe;
}

/** Starts a job made from a stored result (reroll, variation, upscale, edit), posted as a channel message replying to that result. */
export async function startFromResult(context: BotContext, record: ResultRecord, who: CommandUser, request: BotRequest, headline: string): Promise<RerollOutcome> {
  const admitted = await checkFromResult(context, record, who, request);
  if (!admitted.ok) return admitted;
  return submitFromResult(context, record, who, request, headline, admitted.safety);
}

/**
 * The second half of {@link startFromResult}, for a caller that ran {@link checkFromResult} itself
 * before work of its own (🎨/⬆️ download the image in between): reserves, posts and submits.
 */
export async function submitFromResult(
  context: BotContext,
  record: ResultRecord,
  who: CommandUser,
  request: BotRequest,
  headline: string,
  safety: SafetyHandling,
): Promise<RerollOutcome> {
  const { userId } = who;
  const { rerollCooldown } = context.moderation;
  const place = await context.jobs.reserve(userId);
  if (!place.accepted) return { ok: false, message: admissionRefusal(place) };
  // Counted from acceptance: a refused reroll does not make the member wait.
  rerollCooldown.record(userId);

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
    safety,
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
