import {
  InteractionContextType,
  MessageFlags,
  SlashCommandBuilder,
  type APIEmbed,
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
} from 'discord.js';
import { isSchedulerName } from '../engine/request.ts';
import { SCHEDULER_NAMES } from '../engine/schedulers/scheduler.ts';
import { LIMITS } from '../engine/types.ts';
import type { BotContext, SlashCommand } from '../bot/context.ts';
import { replyPrivately } from '../bot/interactions/interaction-replies.ts';
import { suggestModels } from '../bot/interactions/model-autocomplete.ts';
import { isSizeName, SIZE_NAMES } from '../bot/jobs/sizes.ts';
import { promptModels } from '../bot/models/served-models.ts';
import { PREF_NAMES, type PrefName, type UserPrefs } from '../bot/settings/user-prefs.ts';

const PREF_LABELS: Record<PrefName, string> = { size: 'size', scheduler: 'scheduler', steps: 'steps', model: 'model' };

const data = new SlashCommandBuilder()
  .setName('prefs')
  .setDescription('Your own /imagine defaults, used within each channel’s limits')
  .setContexts(InteractionContextType.Guild)
  .addSubcommand((sub) => sub.setName('show').setDescription('Show your defaults'))
  .addSubcommand((sub) =>
    sub
      .setName('set')
      .setDescription('Change your defaults')
      .addStringOption((o) => o.setName('size').setDescription('Default size').addChoices(...SIZE_NAMES.map((size) => ({ name: size, value: size }))))
      .addStringOption((o) =>
        o.setName('scheduler').setDescription('Default scheduler').addChoices(...SCHEDULER_NAMES.map((name) => ({ name, value: name }))),
      )
      .addIntegerOption((o) => o.setName('steps').setDescription('Default steps').setMinValue(LIMITS.steps.min).setMaxValue(LIMITS.steps.max))
      .addStringOption((o) => o.setName('model').setDescription('Default model').setAutocomplete(true)),
  )
  .addSubcommand((sub) =>
    sub
      .setName('reset')
      .setDescription('Forget one default, or all of them')
      .addStringOption((o) =>
        o
          .setName('pref')
          .setDescription('The default to forget (all if omitted)')
          .addChoices(...PREF_NAMES.map((name) => ({ name: PREF_LABELS[name], value: name }))),
      ),
  )
  .toJSON();

export function describePrefs(prefs: UserPrefs): APIEmbed {
  const shown = (value: string | number | undefined) => (value === undefined ? "the channel's" : String(value));
  return {
    title: 'Your /imagine defaults',
    description: 'Options you give win over these; a channel’s limits and allowed models win over both.',
    fields: PREF_NAMES.map((name) => ({ name: PREF_LABELS[name], value: shown(prefs[name]), inline: true })),
  };
}

type Changes = { ok: true; changes: UserPrefs } | { ok: false; message: string };

async function readChanges(interaction: ChatInputCommandInteraction, context: BotContext): Promise<Changes> {
  const options = interaction.options;
  const changes: UserPrefs = {};
  const size = options.getString('size');
  if (size !== null) {
    if (!isSizeName(size)) return { ok: false, message: `size must be one of ${SIZE_NAMES.join(', ')}.` };
    changes.size = size;
  }
  const scheduler = options.getString('scheduler');
  if (scheduler !== null) {
    if (!isSchedulerName(scheduler)) return { ok: false, message: `scheduler must be one of ${SCHEDULER_NAMES.join(', ')}.` };
    changes.scheduler = scheduler;
  }
  const steps = options.getInteger('steps');
  if (steps !== null) {
    const { min, max } = LIMITS.steps;
    if (!(Number.isInteger(steps) && steps >= min && steps <= max)) return { ok: false, message: `steps must be from ${min} to ${max}.` };
    changes.steps = steps;
  }
  const model = options.getString('model');
  if (model !== null) {
    const usable = promptModels(await context.models.list()).map((candidate) => candidate.name);
    if (!usable.includes(model)) return { ok: false, message: `There is no model “${model}”. Models: ${usable.join(', ')}.` };
    changes.model = model;
  }
  if (Object.keys(changes).length === 0) return { ok: false, message: 'Nothing to change: give at least one option.' };
  return { ok: true, changes };
}

async function execute(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void> {
  const userId = interaction.user.id;
  const subcommand = interaction.options.getSubcommand(true);
  const reply = (content: string, prefs: UserPrefs) =>
    interaction.reply({ content, embeds: [describePrefs(prefs)], flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });

  if (subcommand === 'show') {
    await reply('', await context.prefs.get(userId));
    return;
  }
  if (subcommand === 'reset') {
    const pref = interaction.options.getString('pref');
    if (pref !== null && !(PREF_NAMES as readonly string[]).includes(pref)) {
      return replyPrivately(interaction, `pref must be one of ${PREF_NAMES.join(', ')}.`);
    }
    const prefs = await context.prefs.reset(userId, (pref ?? undefined) as PrefName | undefined);
    await reply(pref ? `Forgot your default ${PREF_LABELS[pref as PrefName]}.` : 'Forgot all your defaults.', prefs);
    return;
  }
  const read = await readChanges(interaction, context);
  if (!read.ok) return replyPrivately(interaction, read.message);
  const prefs = await context.prefs.update(userId, read.changes);
  context.logger.info({ userId, changes: read.changes }, 'user prefs changed');
  await reply('Saved.', prefs);
}

const autocomplete = (interaction: AutocompleteInteraction, context: BotContext) => suggestModels(interaction, context, 'everywhere');

export const prefsCommand: SlashCommand = { name: 'prefs', data, execute, autocomplete };
