import { InteractionContextType, SlashCommandBuilder, type APIEmbed, type ChatInputCommandInteraction } from 'discord.js';
import { LIMITS, SCHEDULER_NAMES } from '../engine/index.ts';
import type { BotContext, SlashCommand } from '../bot/context.ts';
import { replyPrivately } from '../bot/interactions/interaction-replies.ts';
import { SIZE_NAMES } from '../bot/jobs/sizes.ts';
import { PREF_NAMES, type PrefName, type UserPrefs } from '../bot/settings/user-prefs.ts';
import {
  modelOption,
  readChoice,
  readChosen,
  readModel,
  readWholeNumber,
  replyWithStored,
  resetSubcommand,
  schedulerOption,
  sizeOption,
  someChanges,
  stepsOption,
  suggestAnyModel,
  type Changes,
} from './default-options.ts';

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
      .addStringOption(sizeOption)
      .addStringOption(schedulerOption)
      .addIntegerOption(stepsOption)
      .addStringOption(modelOption),
  )
  .addSubcommand((sub) =>
    resetSubcommand(
      sub,
      { description: 'Forget one default, or all of them', option: 'pref', optionDescription: 'The default to forget (all if omitted)' },
      PREF_NAMES,
      PREF_LABELS,
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

async function readChanges(interaction: ChatInputCommandInteraction, context: BotContext): Promise<Changes<UserPrefs>> {
  const options = interaction.options;
  const changes: UserPrefs = {};
  const refusal =
    readChoice(options, 'size', SIZE_NAMES, changes) ??
    readChoice(options, 'scheduler', SCHEDULER_NAMES, changes) ??
    readWholeNumber(options, 'steps', LIMITS.steps, changes, 'steps') ??
    (await readModel(options, () => context.models.list(), changes));
  return refusal ?? someChanges(changes);
}

async function execute(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void> {
  const userId = interaction.user.id;
  const subcommand = interaction.options.getSubcommand(true);
  const reply = (content: string, prefs: UserPrefs) => replyWithStored(interaction, content, describePrefs(prefs));

  if (subcommand === 'show') {
    await reply('', await context.prefs.get(userId));
    return;
  }
  if (subcommand === 'reset') {
    const choice = readChosen(interaction.options, 'pref', PREF_NAMES);
    if (!choice.ok) return replyPrivately(interaction, choice.message);
    const pref = choice.chosen;
    const prefs = await context.prefs.reset(userId, pref);
    await reply(pref ? `Forgot your default ${PREF_LABELS[pref]}.` : 'Forgot all your defaults.', prefs);
    return;
  }
  const read = await readChanges(interaction, context);
  if (!read.ok) return replyPrivately(interaction, read.message);
  const prefs = await context.prefs.update(userId, read.changes);
  context.logger.info({ userId, changes: read.changes }, 'user prefs changed');
  await reply('Saved.', prefs);
}

export const prefsCommand: SlashCommand = { name: 'prefs', data, execute, autocomplete: suggestAnyModel };
