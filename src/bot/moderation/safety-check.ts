import type { BotContext } from '../context.ts';
import type { ServedModel } from '../models/served-models.ts';
import type { ChannelSettings } from '../settings/channel-settings.ts';
import { effectivePolicy, uncheckedModelRefusal, type SafetyHandling } from './nsfw-policy.ts';

export type SafetyCheck = { ok: true; safety: SafetyHandling } | { ok: false; message: string };

export const SAFETY_RULES_UNAVAILABLE = "I cannot check this channel's rules for flagged images right now, so I am not taking jobs here. Please try again shortly.";

/**
 * The NSFW rules for a job about to be accepted, as /imagine and every action on a result apply them:
 * refuses a model without a safety checker where it is not allowed, and settles what delivery will do
 * with flagged images. Fails closed: a channel or server setting that cannot be read refuses the job.
 */
export async function checkSafety(
  context: Pick<BotContext, 'channels' | 'servers' | 'moderation' | 'logger'>,
  where: { guildId: string | null; channelId: string },
  settings: Pick<ChannelSettings, 'nsfw' | 'uncheckedModels'>,
  model: Pick<ServedModel, 'name' | 'capabilities'>,
): Promise<SafetyCheck> {
  let ageRestricted = false;
  let dmWithheld = false;
  if (where.guildId !== null) {
    try {
      [ageRestricted, { withheldByDm: dmWithheld }] = await Promise.all([context.channels.ageRestricted(where.channelId), context.servers.get(where.guildId)]);
    } catch (error) {
      context.logger.error({ err: error, ...where }, 'age restriction or server settings unreadable; job refused');
      return { ok: false, message: SAFETY_RULES_UNAVAILABLE };
    }
  }
  const refusal = uncheckedModelRefusal(model, settings, ageRestricted, context.moderation.sfwModels);
  if (refusal !== undefined) return { ok: false, message: refusal };
  return { ok: true, safety: { flagged: effectivePolicy(settings, ageRestricted).policy, dmWithheld } };
}
