import type { MessageReaction, PartialMessageReaction, PartialUser, User } from 'discord.js';
import type { BotContext } from '../context.ts';
import { REROLL_EMOJI } from './custom-ids.ts';
import { startReroll } from '../jobs/reroll.ts';
import { answerRefusedReaction } from '../moderation/refusal-notice.ts';
import { commandUserOfReaction } from '../moderation/command-user.ts';
import type { CommandUser } from '../moderation/command-permissions.ts';

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
  const answer = (reason: string) =>
    answerRefusedReaction(
      { messenger: context.messenger, logger: context.logger, lifetimeMs: context.moderation.noticeLifetimeMs },
      { channelId: reaction.message.channelId, messageId: reaction.message.id, userId: user.id },
      reason,
    );
  let who: CommandUser;
  try {
    who = await commandUserOfReaction(reaction.message.guild, user.id);
  } catch (error) {
    // Fail closed: without their roles, Discord's command overrides cannot be applied.
    context.logger.warn({ err: error, userId: user.id }, 'could not look up the reacting member; reroll refused');
    return answer('I could not check your permissions for /imagine right now. Please try again shortly.');
  }
  const outcome = await startReroll(context, record, who);
  if (outcome.ok) return;
  context.logger.info({ userId: user.id, messageId: record.messageId, reason: outcome.message }, 'reroll refused');
  await answer(outcome.message);
}
