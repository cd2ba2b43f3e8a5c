import {
  ButtonStyle,
  ComponentType,
  InteractionContextType,
  MessageFlags,
  SlashCommandBuilder,
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
  type ChatInputCommandInteraction,
} from 'discord.js';
import type { BotContext, SlashCommand } from '../bot/context.ts';
import { promptExcerpt } from '../bot/delivery/job-messages.ts';
import { CustomIds } from '../bot/interactions/custom-ids.ts';
import type { OutboxEntry } from '../bot/results/result-outbox.ts';

const data = new SlashCommandBuilder()
  .setName('imagine-history')
  .setDescription('Your latest /imagine results, and a way to get any image that could not be delivered')
  .setContexts(InteractionContextType.Guild)
  .toJSON();

/** Discord allows five buttons per row. */
const MAX_FETCH_BUTTONS = 5;

function messageLink(entry: OutboxEntry, where: NonNullable<OutboxEntry['delivered']>): string {
  return `https://discord.com/channels/${where.route === 'dm' ? '@me' : (entry.guildId ?? '@me')}/${where.channelId}/${where.messageId}`;
}

function describeEntry(entry: OutboxEntry, index: number): string {
  const when = `<t:${Math.floor(entry.createdAt / 1000)}:R>`;
  const prompt = `“${promptExcerpt(entry.prompt, 60)}”`;
  const status =
    entry.status === 'delivered' && entry.delivered
      ? entry.delivered.route === 'dm'
        ? `✉️ [sent to you by DM](${messageLink(entry, entry.delivered)})`
        : `✅ [in <#${entry.delivered.channelId}>](${messageLink(entry, entry.delivered)})`
      : entry.status === 'undelivered'
        ? `⚠️ not delivered${entry.images?.length ? ` — press 📥 ${index + 1} to get it` : ''}`
        : '⏳ being delivered';
  return `${index + 1}. ${prompt} · seed ${entry.seed} · ${when}\n   ${status}`;
}

export function describeHistory(entries: readonly OutboxEntry[]): { embeds: APIEmbed[]; components: APIActionRowComponent<APIButtonComponent>[] } {
  const embed: APIEmbed = {
    title: 'Your latest /imagine results',
    description: entries.length ? entries.map(describeEntry).join('\n') : 'You have no results yet.',
  };
  const buttons: APIButtonComponent[] = entries
    .map((entry, index) => ({ entry, index }))
    .filter(({ entry }) => entry.status !== 'delivered' && (entry.images?.length ?? 0) > 0)
    .slice(0, MAX_FETCH_BUTTONS)
    .map(({ entry, index }) => ({
      type: ComponentType.Button,
      style: ButtonStyle.Primary,
      custom_id: CustomIds.fetch(entry.jobId),
      label: String(index + 1),
      emoji: { name: '📥' },
    }));
  return { embeds: [embed], components: buttons.length ? [{ type: ComponentType.ActionRow, components: buttons }] : [] };
}

async function execute(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void> {
  const entries = await context.outbox.recent(interaction.user.id);
  await interaction.reply({ ...describeHistory(entries), flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
}

export const historyCommand: SlashCommand = { name: 'imagine-history', data, execute };
