import {
  MessageFlags,
  type APIEmbed,
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  type SlashCommandIntegerOption,
  type SlashCommandStringOption,
  type SlashCommandSubcommandBuilder,
} from 'discord.js';
import { LIMITS, SCHEDULER_NAMES } from '../engine/index.ts';
import type { BotContext } from '../bot/context.ts';
import { suggestModels } from '../bot/interactions/model-autocomplete.ts';
import { SIZE_NAMES } from '../bot/jobs/sizes.ts';
import { promptModels, type ServedModel } from '../bot/models/served-models.ts';

/*
 * The /imagine defaults that both /settings (a channel's) and /prefs (a member's own) can set: the same
 * options, read and refused the same way, so that a refusal reads alike in both commands.
 */

export type Options = ChatInputCommandInteraction['options'];
export type Refusal = { ok: false; message: string };
export type Changes<T> = { ok: true; changes: T } | Refusal;

export const refuse = (message: string): Refusal => ({ ok: false, message });

export const sizeOption = (o: SlashCommandStringOption) =>
  o.setName('size').setDescription('Default size').addChoices(...SIZE_NAMES.map((size) => ({ name: size, value: size })));
export const schedulerOption = (o: SlashCommandStringOption) =>
  o.setName('scheduler').setDescription('Default scheduler').addChoices(...SCHEDULER_NAMES.map((name) => ({ name, value: name })));
export const stepsOption = (o: SlashCommandIntegerOption) =>
  o.setName('steps').setDescription('Default steps').setMinValue(LIMITS.steps.min).setMaxValue(LIMITS.steps.max);
export const modelOption = (o: SlashCommandStringOption) => o.setName('model').setDescription('Default model').setAutocomplete(true);

/** Defaults may name any model the bot serves, whatever a channel allows: suggest them all. */
export const suggestAnyModel = (interaction: AutocompleteInteraction, context: BotContext) => suggestModels(interaction, context, 'everywhere');

/** The `reset` subcommand: forget the one named, or all when none is. */
export function resetSubcommand<Name extends string>(
  sub: SlashCommandSubcommandBuilder,
  text: { description: string; option: string; optionDescription: string },
  names: readonly Name[],
  labels: Record<Name, string>,
) {
  return sub
    .setName('reset')
    .setDescription(text.description)
    .addStringOption((o) =>
      o
        .setName(text.option)
        .setDescription(text.optionDescription)
        .addChoices(...names.map((name) => ({ name: labels[name], value: name }))),
    );
}

/**
 * One of `names` from a string option (undefined when it is not given): what `reset` was told to
 * forget, for one. Discord offers only these choices, but a stale client or a hand-made request may not.
 */
export function readChosen<Name extends string>(options: Options, option: string, names: readonly Name[]): { ok: true; chosen: Name | undefined } | Refusal {
  const chosen = options.getString(option);
  if (chosen === null) return { ok: true, chosen: undefined };
  if (!(names as readonly string[]).includes(chosen)) return refuse(`${option} must be one of ${names.join(', ')}.`);
  return { ok: true, chosen: chosen as Name };
}

/** An ephemeral answer that shows what is stored now; mentions in it ping nobody. */
export function replyWithStored(interaction: ChatInputCommandInteraction, content: string, stored: APIEmbed): Promise<unknown> {
  return interaction.reply({ content, embeds: [stored], flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
}

/*
 * Each reader below copies its option into `changes` when it is given and valid, and refuses otherwise.
 * Discord enforces choices and ranges too, but a stale client or a hand-made request may not.
 */

/** One of `names`, from the option named `key` (size, scheduler…), stored as `changes[key]`. */
export function readChoice<Key extends string, Name extends string>(
  options: Options,
  key: Key,
  names: readonly Name[],
  changes: Partial<Record<Key, Name>>,
): Refusal | undefined {
  const read = readChosen(options, key, names);
  if (!read.ok) return read;
  if (read.chosen !== undefined) changes[key] = read.chosen;
  return undefined;
}

/** A whole number within `limits`, from the option `option`, stored as `changes[key]`. */
export function readWholeNumber<Key extends string>(
  options: Options,
  option: string,
  { min, max }: { min: number; max: number },
  changes: Partial<Record<Key, number>>,
  key: Key,
): Refusal | undefined {
  const value = options.getInteger(option);
  if (value === null) return undefined;
  if (!(Number.isInteger(value) && value >= min && value <= max)) return refuse(`${option} must be from ${min} to ${max}.`);
  changes[key] = value;
  return undefined;
}

/** The names a default model may take: the models that draw from a prompt. */
export const usableModelNames = (served: readonly ServedModel[]): string[] => promptModels(served).map((model) => model.name);

export const unknownModel = (name: string, usable: readonly string[]): Refusal =>
  refuse(`There is no model “${name}”. Models: ${usable.join(', ')}.`);

/** `served` is asked for only when the option is given. */
export async function readModel(
  options: Options,
  served: () => Promise<readonly ServedModel[]>,
  changes: { model?: string },
): Promise<Refusal | undefined> {
  const model = options.getString('model');
  if (model === null) return undefined;
  const usable = usableModelNames(await served());
  if (!usable.includes(model)) return unknownModel(model, usable);
  changes.model = model;
  return undefined;
}

/** Refuses a `set` that changes nothing. */
export function someChanges<T extends object>(changes: T): Changes<T> {
  if (Object.keys(changes).length === 0) return refuse('Nothing to change: give at least one option.');
  return { ok: true, changes };
}
