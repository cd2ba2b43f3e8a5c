import type { ChatInputCommandInteraction, RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type { Logger } from 'pino';
import type { EngineInfo } from '../engine/types.ts';
import type { ChannelSettingsStore } from './settings/channel-settings.ts';
import type { DiscordMessenger } from './delivery/discord-messenger.ts';
import type { JobDesk } from './jobs/job-desk.ts';
import type { ResultOutbox } from './results/result-outbox.ts';
import type { ResultStore } from './results/result-store.ts';
import type { InitImageStore } from './attachments/init-image-store.ts';
import type { AttachmentLimits } from './attachments/fetch-attachment.ts';

/** What command, button and reaction handlers work with. */
export interface BotContext {
  jobs: JobDesk;
  settings: ChannelSettingsStore;
  results: ResultStore;
  /** Finished images until they reach their owner; /imagine-history reads it. */
  outbox: ResultOutbox;
  /** Starting images of img2img jobs (attachments, results being varied or upscaled). */
  images: InitImageStore;
  attachmentLimits: AttachmentLimits;
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
