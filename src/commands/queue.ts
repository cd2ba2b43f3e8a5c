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

const elsewhere = (count: number) => (count === 1 ? '1 job from another server' : `${count} jobs from other servers`);

/**
 * The queue as one server may see it: its own jobs with their real places in line; other servers'
 * jobs only as counts (their prompts and members are not this server's business).
 */
export function describeQueue(
  running: readonly Job[],
  queued: readonly Job[],
  context: Pick<BotContext, 'engineInfo' | 'concurrency'>,
  guildId: string | null,
): APIEmbed {
  const here = (job: Job) => job.guildId !== null && job.guildId === guildId;
  const runningHere = running.filter(here);
  const runningLines = runningHere.map((job) => {
    const progress = job.progress ? ` (step ${job.progress.step}/${job.progress.totalSteps})` : '';
    return `▶️ ${describeJob(job)}${progress}`;
  });
  if (runningHere.length < running.length) runningLines.push(`…and ${elsewhere(running.length - runningHere.length)}`);
  const queuedHere = queued.map((job, index) => ({ job, position: index + 1 })).filter(({ job }) => here(job));
  const queuedLines = queuedHere.slice(0, MAX_LISTED).map(({ job, position }) => `${position}. ${describeJob(job)}`);
  if (queuedHere.length > MAX_LISTED) queuedLines.push(`…and ${queuedHere.length - MAX_LISTED} more from this server`);
  if (queuedHere.length < queued.length) queuedLines.push(`(${elsewhere(queued.length - queuedHere.length)} also waiting)`);
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
    embeds: [describeQueue(running, queued, context, interaction.guildId)],
    flags: MessageFlags.Ephemeral,
    allowedMentions: { parse: [] },
  });
}

export const queueCommand: SlashCommand = { name: 'queue', data, execute };
