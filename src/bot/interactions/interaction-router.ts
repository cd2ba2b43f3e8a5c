import type { Interaction } from 'discord.js';
import { findCommand } from '../../commands/index.ts';
import { handleButton } from './buttons.ts';
import { parseEditModalId } from './custom-ids.ts';
import { submitEdit } from './result-actions.ts';
import type { BotContext } from '../context.ts';
import { replyPrivately } from './interaction-replies.ts';
import { newJobId } from '../jobs/job.ts';

/** Sends each interaction to its handler; unexpected errors reach the user as an id to quote, never a stack. */
export async function routeInteraction(interaction: Interaction, context: BotContext): Promise<void> {
  try {
    if (interaction.isChatInputCommand()) {
      const command = findCommand(interaction.commandName);
      if (!command) return await replyPrivately(interaction, 'I do not know that command any more.');
      return await command.execute(interaction, context);
    }
    if (interaction.isAutocomplete()) return await findCommand(interaction.commandName)?.autocomplete?.(interaction, context);
    if (interaction.isButton()) return await handleButton(interaction, context);
    if (interaction.isModalSubmit()) {
      const messageId = parseEditModalId(interaction.customId);
      if (!messageId) return await replyPrivately(interaction, 'This form is no longer supported.');
      return await submitEdit(interaction, context, messageId);
    }
  } catch (error) {
    const incidentId = newJobId();
    context.logger.error({ err: error, incidentId, interactionId: interaction.id }, 'interaction failed');
    if (interaction.isRepliable()) {
      await replyPrivately(interaction, `Something went wrong (id \`${incidentId}\`).`).catch((replyError: unknown) =>
        context.logger.warn({ err: replyError, incidentId }, 'could not report the failure to the user'),
      );
    }
  }
}
