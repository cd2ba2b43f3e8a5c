import { MessageFlags, type ButtonInteraction } from 'discord.js';
import type { BotContext } from '../context.ts';
import { parseCustomId } from './custom-ids.ts';
import { describeDiscordError } from '../delivery/discord-errors.ts';
import { replyPrivately } from './interaction-replies.ts';
import { isModerator } from './permissions.ts';
import { startReroll } from '../jobs/reroll.ts';
import { commandUserOfInteraction } from '../moderation/command-user.ts';
import { outboxImages } from '../results/result-outbox.ts';
import { fromResultImage, openEditModal } from './result-actions.ts';
import { sendWithheld } from './withheld-images.ts';

export async function handleButton(interaction: ButtonInteraction, context: BotContext): Promise<void> {
  const action = parseCustomId(interaction.customId);
  if (!action) return replyPrivately(interaction, 'This button is no longer supported.');
  switch (action.action) {
    case 'cancel':
      return cancelJob(interaction, context, action.jobId);
    case 'reroll':
      return reroll(interaction, context);
    case 'delete':
      return deleteResult(interaction, context);
    case 'fetch':
      return fetchImage(interaction, context, action.jobId);
    case 'withheld':
      return sendWithheld(interaction, context, action.jobId);
    case 'vary':
    case 'upscale':
      return fromResultImage(interaction, context, action.action, action.image);
    case 'edit':
      return openEditModal(interaction, context);
  }
}

/** 📥: the owner gets an image that could not be delivered, privately. */
async function fetchImage(interaction: ButtonInteraction, context: BotContext, jobId: string): Promise<void> {
  const entry = await context.outbox.get(jobId);
  if (!entry || entry.ownerId !== interaction.user.id) return replyPrivately(interaction, 'I no longer have that image.');
  const images = outboxImages(entry);
  if (images.length === 0) return replyPrivately(interaction, 'That image was delivered; it is in the message linked in /imagine-history.');
  const name = (index: number) => (images.length === 1 ? `imagine-${entry.seed}.png` : `imagine-${entry.seed}-${index + 1}.png`);
  await interaction.reply({
    content: `> ${entry.prompt.slice(0, 200)}`,
    files: images.map((attachment, index) => ({ attachment, name: name(index) })),
    flags: MessageFlags.Ephemeral,
    allowedMentions: { parse: [] },
  });
  context.logger.info({ jobId, userId: interaction.user.id }, 'undelivered image fetched from history');
}

async function cancelJob(interaction: ButtonInteraction, context: BotContext, jobId: string): Promise<void> {
  const ownerId = await context.jobs.ownerOf(jobId);
  if (!ownerId) return replyPrivately(interaction, 'That job has already finished or been cancelled.');
  if (ownerId !== interaction.user.id && !isModerator(interaction.memberPermissions)) {
    return replyPrivately(interaction, 'Only the person who started this job, or a moderator, can cancel it.');
  }
  await interaction.deferUpdate();
  const cancelled = await context.jobs.cancel(jobId, { kind: 'user', userId: interaction.user.id });
  context.logger.info({ jobId, by: interaction.user.id, state: cancelled }, 'cancel requested');
}

async function reroll(interaction: ButtonInteraction, context: BotContext): Promise<void> {
  const record = await context.results.get(interaction.message.id);
  if (!record) return replyPrivately(interaction, 'I no longer have the settings for this image, so I cannot reroll it.');
  // Acknowledge at once: the checks below read the store, and the new job replies in the channel.
  await interaction.deferUpdate();
  const outcome = await startReroll(context, record, commandUserOfInteraction(interaction));
  if (!outcome.ok) await interaction.followUp({ content: outcome.message, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
}

async function deleteResult(interaction: ButtonInteraction, context: BotContext): Promise<void> {
  const message = interaction.message;
  const record = await context.results.get(message.id);
  if (record?.ownerId !== interaction.user.id && !isModerator(interaction.memberPermissions)) {
    return replyPrivately(interaction, 'Only the person who made this image, or a moderator, can delete it.');
  }
  await interaction.deferUpdate();
  try {
    await context.messenger.deleteMessage(message.channelId, message.id);
  } catch (error) {
    context.logger.warn({ err: describeDiscordError(error), messageId: message.id }, 'could not delete a result');
    await interaction.followUp({ content: 'I could not delete that message.', flags: MessageFlags.Ephemeral });
    return;
  }
  await context.results.delete(message.id);
  context.logger.info({ messageId: message.id, by: interaction.user.id, jobId: record?.jobId }, 'result deleted');
}
