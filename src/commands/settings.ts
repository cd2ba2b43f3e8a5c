import { InteractionContextType, PermissionFlagsBits, SlashCommandBuilder, type APIEmbed, type ChatInputCommandInteraction } from 'discord.js';
import { DEFAULTS, LIMITS, SCHEDULER_NAMES } from '../engine/index.ts';
import { parseWordList } from '../bot/settings/banned-words.ts';
import { RESETTABLE_SETTINGS, type ChannelSettings, type SettingName } from '../bot/settings/channel-settings.ts';
import { settingsChannelIdOf } from '../bot/moderation/settings-scope.ts';
import type { BotContext, SlashCommand } from '../bot/context.ts';
import { effectiveMax, MAX_PROMPT_LENGTH } from '../bot/jobs/imagine-request.ts';
import { replyPrivately } from '../bot/interactions/interaction-replies.ts';
import { canManageServer, canManageSettings } from '../bot/interactions/permissions.ts';
import { SIZE_NAMES } from '../bot/jobs/sizes.ts';
import type { ServedModel } from '../bot/models/served-models.ts';
import { NSFW_POLICIES, policyRefusal } from '../bot/moderation/nsfw-policy.ts';
import { nsfwFields, type NsfwSettingsView } from '../bot/moderation/nsfw-settings-view.ts';
import { DEFAULT_SERVER_SETTINGS } from '../bot/settings/server-settings.ts';
import {
  modelOption,
  readChoice,
  readChosen,
  readModel,
  readWholeNumber,
  refuse,
  replyWithStored,
  resetSubcommand,
  schedulerOption,
  sizeOption,
  someChanges,
  stepsOption,
  suggestAnyModel,
  unknownModel,
  usableModelNames,
  type Changes,
  type Options,
  type Refusal,
} from './default-options.ts';

/** Typed into a text setting, clears it. */
const CLEAR_WORD = 'none';

const SETTING_LABELS: Record<SettingName, string> = {
  enabled: 'on/off',
  steps: 'default steps',
  guidance: 'default guidance',
  size: 'default size',
  scheduler: 'default scheduler',
  negative: 'default negative prompt',
  maxSteps: 'maximum steps',
  maxCount: 'maximum images per job',
  model: 'default model',
  allowedModels: 'allowed models',
  nsfw: 'flagged images (NSFW policy)',
  uncheckedModels: 'models without a safety checker',
  bannedWords: 'banned words',
};

const data = new SlashCommandBuilder()
  .setName('settings')
  .setDescription("This channel's /imagine defaults and limits (moderators)")
  .setContexts(InteractionContextType.Guild)
  .setDefaultMemberPermissions(PermissionFlagsBits.ManageChannels)
  .addSubcommand((sub) => sub.setName('show').setDescription("Show this channel's settings"))
  .addSubcommand((sub) =>
    sub
      .setName('set')
      .setDescription("Change this channel's settings")
      .addBooleanOption((o) => o.setName('enabled').setDescription('Allow /imagine in this channel'))
      .addIntegerOption(stepsOption)
      .addNumberOption((o) =>
        o.setName('guidance').setDescription('Default guidance').setMinValue(LIMITS.guidance.min).setMaxValue(LIMITS.guidance.max),
      )
      .addStringOption(sizeOption)
      .addStringOption(schedulerOption)
      .addStringOption((o) =>
        o.setName('negative').setDescription(`Default negative prompt ("${CLEAR_WORD}" clears it)`).setMaxLength(MAX_PROMPT_LENGTH),
      )
      .addIntegerOption((o) =>
        o.setName('max_steps').setDescription('Most steps a job may use').setMinValue(LIMITS.steps.min).setMaxValue(LIMITS.steps.max),
      )
      .addIntegerOption((o) =>
        o.setName('max_count').setDescription('Most images per job').setMinValue(LIMITS.count.min).setMaxValue(LIMITS.count.max),
      )
      .addStringOption(modelOption)
      .addStringOption((o) =>
        o
          .setName('allowed_models')
          .setDescription(`Comma-separated models /imagine may use here ("${CLEAR_WORD}" allows all)`)
          .setMaxLength(2000),
      )
      .addStringOption((o) =>
        o
          .setName('nsfw')
          .setDescription('Images the safety checker flags: block, spoiler, or allow (age-restricted channels only)')
          .addChoices(...NSFW_POLICIES.map((policy) => ({ name: policy, value: policy }))),
      )
      .addBooleanOption((o) =>
        o.setName('unchecked_models').setDescription('Allow models without a safety checker here (age-restricted channels always do)'),
      )
      .addStringOption((o) =>
        o
          .setName('banned_words')
          .setDescription(`Comma-separated words refused in prompts; replaces the list ("${CLEAR_WORD}" clears it)`)
          .setMaxLength(2000),
      ),
  )
  .addSubcommand((sub) =>
    sub
      .setName('server')
      .setDescription('Server-wide settings (Manage Server)')
      .addBooleanOption((o) =>
        o.setName('withheld_dm').setDescription('Let members get their withheld (flagged) images by DM').setRequired(true),
      ),
  )
  .addSubcommand((sub) =>
    resetSubcommand(
      sub,
      { description: 'Reset one setting, or all of them', option: 'setting', optionDescription: 'The setting to reset (all if omitted)' },
      RESETTABLE_SETTINGS,
      SETTING_LABELS,
    ),
  )
  .toJSON();

export function describeSettings(settings: ChannelSettings, nsfw: NsfwSettingsView): APIEmbed {
  const orDefault = (value: string | number | undefined, fallback: string) => (value === undefined ? `${fallback} (default)` : String(value));
  const fields = [
    { name: 'Enabled', value: settings.enabled ? 'yes' : 'no' },
    { name: 'Steps', value: orDefault(settings.steps, String(DEFAULTS.steps)) },
    { name: 'Guidance', value: orDefault(settings.guidance, String(DEFAULTS.guidance)) },
    { name: 'Size', value: orDefault(settings.size, 'square') },
    { name: 'Scheduler', value: orDefault(settings.scheduler, "the model's") },
    { name: 'Negative prompt', value: settings.negative ? settings.negative.slice(0, 1024) : '(none)' },
    { name: 'Maximum steps', value: orDefault(settings.maxSteps, String(LIMITS.steps.max)) },
    { name: 'Maximum images per job', value: orDefault(settings.maxCount, String(LIMITS.count.max)) },
    { name: 'Model', value: orDefault(settings.model, "the bot's") },
    { name: 'Allowed models', value: settings.allowedModels ? settings.allowedModels.join(', ').slice(0, 1024) || '(none)' : 'all' },
    ...nsfwFields(settings, nsfw),
    { name: 'Banned words', value: settings.bannedWords.length > 0 ? settings.bannedWords.join(', ').slice(0, 1024) : '(none)' },
  ];
  const wide = new Set(['Banned words', 'Flagged images', 'Models without a safety checker', 'Withheld images by DM']);
  return { title: '/imagine settings for this channel', fields: fields.map((field) => ({ ...field, inline: !wide.has(field.name) })) };
}

async function readChanges(interaction: ChatInputCommandInteraction, served: readonly ServedModel[]): Promise<Changes<Partial<ChannelSettings>>> {
  const options = interaction.options;
  const changes: Partial<ChannelSettings> = {};
  const enabled = options.getBoolean('enabled');
  if (enabled !== null) changes.enabled = enabled;
  const refusal =
    readWholeNumber(options, 'steps', LIMITS.steps, changes, 'steps') ??
    readWholeNumber(options, 'max_steps', LIMITS.steps, changes, 'maxSteps') ??
    readWholeNumber(options, 'max_count', LIMITS.count, changes, 'maxCount') ??
    readGuidance(options, changes) ??
    readChoice(options, 'size', SIZE_NAMES, changes) ??
    readChoice(options, 'scheduler', SCHEDULER_NAMES, changes) ??
    (await readModel(options, async () => served, changes)) ??
    readAllowedModels(options, usableModelNames(served), changes) ??
    readChoice(options, 'nsfw', NSFW_POLICIES, changes);
  if (refusal) return refusal;
  const unchecked = options.getBoolean('unchecked_models');
  if (unchecked !== null) changes.uncheckedModels = unchecked;
  const negative = options.getString('negative');
  if (negative !== null) changes.negative = negative.trim().toLowerCase() === CLEAR_WORD ? undefined : negative.trim();
  const banned = options.getString('banned_words');
  if (banned !== null) changes.bannedWords = banned.trim().toLowerCase() === CLEAR_WORD ? [] : parseWordList(banned);
  return someChanges(changes);
}

function readGuidance(options: Options, changes: Partial<ChannelSettings>): Refusal | undefined {
  const guidance = options.getNumber('guidance');
  if (guidance === null) return undefined;
  const { min, max } = LIMITS.guidance;
  if (!(guidance >= min && guidance <= max)) return refuse(`guidance must be from ${min} to ${max}.`);
  changes.guidance = guidance;
  return undefined;
}

function readAllowedModels(options: Options, usable: readonly string[], changes: Partial<ChannelSettings>): Refusal | undefined {
  const allowed = options.getString('allowed_models');
  if (allowed === null) return undefined;
  const list = allowed.trim().toLowerCase() === CLEAR_WORD ? undefined : [...new Set(allowed.split(',').map((name) => name.trim()).filter(Boolean))];
  const unknown = list?.find((name) => !usable.includes(name));
  if (unknown !== undefined) return unknownModel(unknown, usable);
  if (list?.length === 0) return refuse(`allowed_models needs at least one model ("${CLEAR_WORD}" allows all).`);
  changes.allowedModels = list;
  return undefined;
}

/** Settings that contradict each other would make every /imagine in the channel fail. */
function inconsistency(settings: ChannelSettings): string | undefined {
  const maxSteps = effectiveMax(settings.maxSteps, LIMITS.steps.max);
  if (settings.steps !== undefined && settings.steps > maxSteps) {
    return `Default steps (${settings.steps}) would be above the maximum steps (${maxSteps}).`;
  }
  if (settings.model !== undefined && settings.allowedModels !== undefined && !settings.allowedModels.includes(settings.model)) {
    return `The default model (${settings.model}) would not be among the allowed models (${settings.allowedModels.join(', ')}).`;
  }
  return undefined;
}

async function execute(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void> {
  // default_member_permissions only hides the command; server admins can override it, so check again.
  if (!canManageSettings(interaction.memberPermissions)) {
    return replyPrivately(interaction, 'Only members with the Manage Channels permission can use /settings.');
  }
  // In a thread or forum post, the parent channel's settings: those are the ones that apply there.
  const channelId = settingsChannelIdOf(interaction.channel, interaction.channelId);
  const inherited = channelId === interaction.channelId ? '' : `These are the settings of <#${channelId}>, which this thread follows.\n`;
  const subcommand = interaction.options.getSubcommand(true);
  if (subcommand === 'server') return setServer(interaction, context);
  let view: NsfwSettingsView;
  try {
    view = await nsfwView(interaction, context, channelId);
  } catch (error) {
    context.logger.error({ err: error, channelId }, 'age restriction or server settings unreadable');
    return replyPrivately(interaction, 'I cannot check whether this channel is age-restricted right now. Please try again shortly.');
  }
  const reply = (content: string, settings: ChannelSettings) => replyWithStored(interaction, `${inherited}${content}`, describeSettings(settings, view));

  if (subcommand === 'show') {
    await reply('', await context.settings.get(channelId));
    return;
  }
  if (subcommand === 'reset') {
    const choice = readChosen(interaction.options, 'setting', RESETTABLE_SETTINGS);
    if (!choice.ok) return replyPrivately(interaction, choice.message);
    const setting = choice.chosen;
    const settings = await context.settings.reset(channelId, setting);
    context.logger.info({ channelId, setting: setting ?? 'all', by: interaction.user.id }, 'channel settings reset');
    await reply(setting ? `Reset ${SETTING_LABELS[setting]}.` : 'Reset all settings.', settings);
    return;
  }
  const read = await readChanges(interaction, await context.models.list());
  if (!read.ok) return replyPrivately(interaction, read.message);
  const refusal = read.changes.nsfw ? policyRefusal(read.changes.nsfw, view.ageRestricted) : undefined;
  if (refusal) return replyPrivately(interaction, refusal);
  const problem = inconsistency({ ...(await context.settings.get(channelId)), ...read.changes });
  if (problem) return replyPrivately(interaction, problem);
  const settings = await context.settings.update(channelId, read.changes);
  context.logger.info({ channelId, changes: read.changes, by: interaction.user.id }, 'channel settings changed');
  await reply('Saved.', settings);
}

async function nsfwView(interaction: ChatInputCommandInteraction, context: BotContext, channelId: string): Promise<NsfwSettingsView> {
  const guildId = interaction.guildId;
  const [ageRestricted, server, models] = await Promise.all([
    context.channels.ageRestricted(channelId),
    guildId ? context.servers.get(guildId) : Promise.resolve(DEFAULT_SERVER_SETTINGS),
    context.models.list(),
  ]);
  return { ageRestricted, server, models, sfwModels: context.moderation.sfwModels };
}

/** /settings server: server-wide choices, for members who can manage the server (not just a channel). */
async function setServer(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void> {
  if (!canManageServer(interaction.memberPermissions)) return replyPrivately(interaction, 'Only members with the Manage Server permission can change server-wide settings.');
  const guildId = interaction.guildId;
  if (guildId === null) return replyPrivately(interaction, '/settings server works only in a server.');
  const withheldByDm = interaction.options.getBoolean('withheld_dm', true);
  await context.servers.update(guildId, { withheldByDm });
  context.logger.info({ guildId, withheldByDm, by: interaction.user.id }, 'server settings changed');
  const what = withheldByDm
    ? 'Members can now get the images this server withholds (flagged by the safety checker) by DM, with 📩 on the result.'
    : 'Withheld images are no longer sent by DM; those made from now on are not kept.';
  return replyPrivately(interaction, `Saved. ${what}`);
}

export const settingsCommand: SlashCommand = { name: 'settings', data, execute, autocomplete: suggestAnyModel };
