import type { MessageReaction, PartialMessageReaction, PartialUser, User } from 'discord.js';
import type { BotContext } from '../context.ts';
import { REROLL_EMOJI } from './custom-ids.ts';
import { startReroll } from '../jobs/reroll.ts';
import { answerRefusedReaction } from '../moderation/refusal-notice.ts';

/**
 * 🔁 on a result reruns it. Works on messages from before a restart: the reaction may arrive as a
 * partial, and only its message id is needed to find the stored parameters.
 */
export async function handleReaction(
  reaction: MessageReaction | PartialMessageReaction,
  user: User | PartialUser,
  context: BotContext,
  botUserId: string | undefined,
): Promise<void> {
  if (user.id === botUserId || user.bot === true) return;
  if (reaction.emoji.name !== REROLL_EMOJI) return;
  const record = await context.results.get(reaction.message.id);
  if (!record) return;
  const outcome = await startReroll(context, record, user.id);
  if (outcome.ok) return;
  context.logger.info({ userId: user.id, messageId: record.messageId, reason: outcome.message }, 'reroll refused');
  await answerRefusedReaction(
    { messenger: context.messenger, logger: context.logger, lifetimeMs: context.moderation.noticeLifetimeMs },
    { channelId: reaction.message.channelId, messageId: reaction.message.id, userId: user.id },
    outcome.message,
  );
}
