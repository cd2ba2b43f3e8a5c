import { InteractionContextType, MessageFlags, SlashCommandBuilder, type APIEmbed, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext, SlashCommand } from '../bot/context.ts';
import type { Job } from '../bot/jobs/job.ts';
import { promptExcerpt } from '../bot/delivery/job-messages.ts';

const data = new SlashCommandBuilder()
  .setName('queue')
  .setDescription('Show the running and waiting /imagine jobs')
  .setContexts(InteractionContextType.Guild)
  .toJSON();

/** Discord allows 4096 characters in a description; a long queue is cut with a count of the rest. */
const MAX_LISTED = 20;

function describeJob(job: Job): string {
  return `<@${job.userId}> — ${promptExcerpt(job.request.prompt, 60)}`;
}

export function describeQueue(running: readonly Job[], queued: readonly Job[], context: Pick<BotContext, 'engineInfo' | 'concurrency'>): APIEmbed {
  const runningLines = running.map((job) => {
    const progress = job.progress ? ` (step ${job.progress.step}/${job.progress.totalSteps})` : '';
    return `▶️ ${describeJob(job)}${progress}`;
  });
  const queuedLines = queued.slice(0, MAX_LISTED).map((job, index) => `${index + 1}. ${describeJob(job)}`);
  if (queued.length > MAX_LISTED) queuedLines.push(`…and ${queued.length - MAX_LISTED} more`);
  const { model, provider } = context.engineInfo;
  return {
    title: '/imagine queue',
    fields: [
      { name: 'Running', value: runningLines.join('\n') || 'nothing', inline: false },
      { name: `Waiting (${queued.length})`, value: queuedLines.join('\n') || 'nobody', inline: false },
      { name: 'Model', value: model.name, inline: true },
      { name: 'Provider', value: provider, inline: true },
      { name: 'Concurrency', value: String(context.concurrency), inline: true },
    ],
  };
}

async function execute(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void> {
  const { running, queued } = context.jobs.queue.snapshot();
  await interaction.reply({
    embeds: [describeQueue(running, queued, context)],
    flags: MessageFlags.Ephemeral,
    allowedMentions: { parse: [] },
  });
}

export const queueCommand: SlashCommand = { name: 'queue', data, execute };
