import { InteractionContextType, MessageFlags, SlashCommandBuilder, type APIEmbed, type APIEmbedField, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext, SlashCommand } from '../bot/context.ts';
import { QUEUE_UNAVAILABLE, replyPrivately } from '../bot/interactions/interaction-replies.ts';
import { promptExcerpt } from '../bot/delivery/job-messages.ts';
import type { JobSummary, QueueView, WorkerSummary } from '../bot/jobs/job-desk.ts';

const data = new SlashCommandBuilder()
  .setName('queue')
  .setDescription('Show the running and waiting /imagine jobs')
  .setContexts(InteractionContextType.Guild)
  .toJSON();

/** Discord allows 4096 characters in a description; a long queue is cut with a count of the rest. */
const MAX_LISTED = 20;

function describeJob(job: JobSummary): string {
  return `<@${job.userId}> — ${promptExcerpt(job.prompt, 60)}`;
}

const elsewhere = (count: number) => (count === 1 ? '1 job from another server' : `${count} jobs from other servers`);

function progressOf(job: JobSummary): string {
  return job.step !== undefined && job.totalSteps !== undefined ? ` (step ${job.step}/${job.totalSteps})` : '';
}

function describeWorker(worker: WorkerSummary, guildId: string | null): string {
  const job = worker.running;
  // Another server's prompt and user are none of this server's business.
  const doing = !job ? 'idle' : job.guildId !== null && job.guildId === guildId ? `▶️ ${describeJob(job)}${progressOf(job)}` : 'busy (another server)';
  return `🖥️ ${worker.host} · ${worker.models.join(', ')} · ${worker.provider} — ${doing}`;
}

/**
 * The queue as seen from one server: its own jobs with prompts and owners, other servers' jobs only
 * as counts (prompts and user mentions never cross servers).
 */
export function describeQueue(view: QueueView, guildId: string | null, context: Pick<BotContext, 'engineInfo' | 'concurrency'>): APIEmbed {
  const here = (job: JobSummary) => job.guildId !== null && job.guildId === guildId;
  const runningHere = view.running.filter(here);
  const runningLines = runningHere.map((job) => `▶️ ${describeJob(job)}${progressOf(job)}`);
  const runningElsewhere = view.running.length - runningHere.length;
  if (runningElsewhere > 0) runningLines.push(`…and ${elsewhere(runningElsewhere)}`);

  const queuedLines: string[] = [];
  view.queued.forEach((job, index) => {
    if (here(job) && queuedLines.length < MAX_LISTED) queuedLines.push(`${index + 1}. ${describeJob(job)}`);
  });
  const queuedHere = view.queued.filter(here).length;
  if (queuedHere > MAX_LISTED) queuedLines.push(`…and ${queuedHere - MAX_LISTED} more from this server`);
  const queuedElsewhere = view.queued.length - queuedHere;
  if (queuedElsewhere > 0) queuedLines.push(`(${elsewhere(queuedElsewhere)} also waiting)`);

  const fields: APIEmbedField[] = [
    { name: 'Running', value: runningLines.join('\n') || 'nothing', inline: false },
    { name: `Waiting (${view.queued.length})`, value: queuedLines.join('\n') || 'nobody', inline: false },
  ];
  if (view.workers) {
    const workerLines = view.workers.slice(0, MAX_LISTED).map((worker) => describeWorker(worker, guildId));
    fields.push({ name: `Workers online (${view.workers.length})`, value: workerLines.join('\n') || 'none: jobs wait until a worker starts', inline: false });
  } else {
    const { model, provider } = context.engineInfo;
    fields.push(
      { name: 'Model', value: model.name, inline: true },
      { name: 'Provider', value: provider, inline: true },
      { name: 'Concurrency', value: String(context.concurrency), inline: true },
    );
  }
  return { title: '/imagine queue', fields };
}

async function execute(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void> {
  if (!context.jobs.available()) return replyPrivately(interaction, QUEUE_UNAVAILABLE);
  const view = await context.jobs.view();
  await interaction.reply({
    embeds: [describeQueue(view, interaction.guildId, context)],
    flags: MessageFlags.Ephemeral,
    allowedMentions: { parse: [] },
  });
}

export const queueCommand: SlashCommand = { name: 'queue', data, execute };
