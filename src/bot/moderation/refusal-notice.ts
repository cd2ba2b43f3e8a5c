import type { Logger } from 'pino';
import { describeDiscordError } from '../delivery/discord-errors.ts';
import type { DiscordMessenger } from '../delivery/discord-messenger.ts';

export interface RefusalNoticeOptions {
  messenger: DiscordMessenger;
  logger: Logger;
  /** How long the notice stays in the channel before the bot deletes it. */
  lifetimeMs: number;
}

/**
 * A reaction has no interaction to answer privately through, so a refused 🔁 is answered with a short
 * reply to the result that deletes itself; where the bot cannot post there, by DM. Never throws.
 */
export async function answerRefusedReaction(
  options: RefusalNoticeOptions,
  where: { channelId: string; messageId: string; userId: string },
  reason: string,
): Promise<void> {
  const { messenger, logger } = options;
  const content = `<@${where.userId}> 🔁 ${reason}`;
  try {
    const notice = await messenger.createMessage(where.channelId, { content, mentionUsers: [where.userId] }, where.messageId);
    const timer = setTimeout(() => {
      messenger
        .deleteMessage(notice.channelId || where.channelId, notice.id)
        .catch((error: unknown) => logger.debug({ err: describeDiscordError(error), messageId: notice.id }, 'could not delete a refusal notice'));
    }, options.lifetimeMs);
    timer.unref();
    return;
  } catch (error) {
    logger.info({ err: describeDiscordError(error), channelId: where.channelId }, 'could not post a refusal notice; trying a DM');
  }
  try {
    const dm = await messenger.openDm(where.userId);
    await messenger.createMessage(dm, { content: `🔁 ${reason}` });
  } catch (error) {
    logger.info({ err: describeDiscordError(error), userId: where.userId }, 'could not tell the member why their reroll was refused');
  }
}
