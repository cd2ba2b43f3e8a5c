import { MessageFlags, type ButtonInteraction } from 'discord.js';
import type { BotContext } from '../context.ts';
import { describeDiscordError } from '../delivery/discord-errors.ts';
import { promptExcerpt } from '../delivery/job-messages.ts';
import { SPOILER_PREFIX } from '../delivery/images.ts';
import { withheldImages } from '../results/result-outbox.ts';
import { replyPrivately } from './interaction-replies.ts';

/**
 * 📩 on a result whose pictures the channel withheld: sends them to their owner, and only to them, by DM
 * (as spoilers), where the server allows it. The server's choice is read again now: turning it off
 * stops pictures made before, and a server setting that cannot be read sends nothing.
 */
export async function sendWithheld(interaction: ButtonInteraction, context: BotContext, jobId: string): Promise<void> {
  const entry = await context.outbox.get(jobId);
  if (!entry || entry.ownerId !== interaction.user.id) return replyPrivately(interaction, 'Only the person who made this image can get it, and only by DM.');
  if (entry.guildId !== null) {
    let allowed: boolean;
    try {
      allowed = (await context.servers.get(entry.guildId)).withheldByDm;
    } catch (error) {
      context.logger.error({ err: error, jobId }, 'server settings unreadable; withheld image not sent');
      return replyPrivately(interaction, "I cannot check this server's settings right now. Please try again shortly.");
    }
    if (!allowed) return replyPrivately(interaction, 'This server does not allow withheld images to be sent by DM.');
  }
  const images = withheldImages(entry);
  if (images.length === 0) return replyPrivately(interaction, 'I no longer have that image.');
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  try {
    const dmChannelId = await context.messenger.openDm(entry.ownerId);
    await context.messenger.createMessage(dmChannelId, {
      content: `> ${promptExcerpt(entry.prompt)}\nWithheld in <#${entry.channelId}>: the safety checker flagged ${images.length === 1 ? 'this image' : 'these images'}.`,
      files: images.map((data, index) => ({ name: `${SPOILER_PREFIX}imagine-${entry.seed}${images.length === 1 ? '' : `-${index + 1}`}.png`, data })),
    });
  } catch (error) {
    context.logger.warn({ err: describeDiscordError(error), jobId }, 'could not DM a withheld image');
    await interaction.editReply('I could not send you a DM. Check that you accept DMs from members of this server, then press 📩 again.');
    return;
  }
  context.logger.info({ jobId, userId: entry.ownerId }, 'withheld image sent by DM');
  await interaction.editReply('Sent to you by DM.');
}
