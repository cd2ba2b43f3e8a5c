import { MessageFlags, type RepliableInteraction } from 'discord.js';

/**
 * Tells the user (and only them) why nothing happened, whatever state the interaction is in: a plain
 * ephemeral reply before acknowledgement; after a public defer, the "thinking…" reply is removed and an
 * ephemeral follow-up takes its place.
 */
export async function replyPrivately(interaction: RepliableInteraction, content: string): Promise<void> {
  if (!interaction.deferred && !interaction.replied) {
    await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
    return;
  }
  if (interaction.deferred && !interaction.ephemeral && interaction.isChatInputCommand()) {
    await interaction.deleteReply().catch(() => undefined);
  }
  await interaction.followUp({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
}

/** Said whenever the shared queue (or the store that records jobs) cannot take a job: nothing was accepted. */
export const QUEUE_UNAVAILABLE = 'The queue is unavailable, so I could not take your job. Please try again shortly.';

export function admissionRefusal(admission: { reason: 'user-limit'; limit: number } | { reason: 'closed' } | { reason: 'unavailable' }): string {
  if (admission.reason === 'closed') return 'The bot is shutting down, so it is not taking new jobs. Please try again in a minute.';
  if (admission.reason === 'unavailable') return QUEUE_UNAVAILABLE;
  const jobs = admission.limit === 1 ? 'a job' : `${admission.limit} jobs`;
  return `You already have ${jobs} waiting in the queue. Wait for one to start, or cancel one, before adding another.`;
}
