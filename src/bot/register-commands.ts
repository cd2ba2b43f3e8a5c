import { REST, Routes } from 'discord.js';
import { commandRegistrations } from '../commands/index.ts';

export interface RegisterOptions {
  token: string;
  applicationId: string;
  apiUrl: string;
  /** Register to this guild only (instant, for development); globally when absent. */
  guildId?: string | undefined;
}

/** Replaces the application's slash commands with the bot's current set; returns their names. */
export async function registerCommands(options: RegisterOptions): Promise<string[]> {
  const rest = new REST({ api: options.apiUrl }).setToken(options.token);
  const route = options.guildId
    ? Routes.applicationGuildCommands(options.applicationId, options.guildId)
    : Routes.applicationCommands(options.applicationId);
  const registered = (await rest.put(route, { body: commandRegistrations() })) as Array<{ name?: string }>;
  return registered.map((command) => String(command.name));
}
