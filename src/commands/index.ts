import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type { SlashCommand } from '../bot/context.ts';
import { historyCommand } from './history.ts';
import { imagineCommand } from './imagine.ts';
import { prefsCommand } from './prefs.ts';
import { queueCommand } from './queue.ts';
import { settingsCommand } from './settings.ts';

export const commands: readonly SlashCommand[] = [imagineCommand, settingsCommand, queueCommand, historyCommand, prefsCommand];

export function findCommand(name: string): SlashCommand | undefined {
  return commands.find((command) => command.name === name);
}

/** The payload for registering every command (PUT replaces the whole set). */
export function commandRegistrations(): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  return commands.map((command) => command.data);
}
