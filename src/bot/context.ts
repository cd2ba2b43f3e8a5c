import type { ChatInputCommandInteraction, RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type { Logger } from 'pino';
import type { EngineInfo } from '../engine/types.ts';
import type { ChannelSettingsStore } from './settings/channel-settings.ts';
import type { DiscordMessenger } from './delivery/discord-messenger.ts';
import type { JobDesk } from './jobs/job-desk.ts';
import type { ResultOutbox } from './results/result-outbox.ts';
import type { ResultStore } from './results/result-store.ts';

/** What command, button and reaction handlers work with. */
export interface BotContext {
  jobs: JobDesk;
  settings: ChannelSettingsStore;
  results: ResultStore;
  /** Finished images until they reach their owner; /imagine-history reads it. */
  outbox: ResultOutbox;
  messenger: DiscordMessenger;
  engineInfo: EngineInfo;
  concurrency: number;
  logger: Logger;
}

export interface SlashCommand {
  name: string;
  /** The registration payload. */
  data: RESTPostAPIChatInputApplicationCommandsJSONBody;
  execute(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void>;
}
