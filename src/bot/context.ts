import type { AutocompleteInteraction, ChatInputCommandInteraction, RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type { Logger } from 'pino';
import type { EngineInfo } from '../engine/types.ts';
import type { ChannelSettingsStore } from './settings/channel-settings.ts';
import type { UserPrefsStore } from './settings/user-prefs.ts';
import type { ServerSettingsStore } from './settings/server-settings.ts';
import type { ModelDirectory } from './models/served-models.ts';
import type { DiscordMessenger } from './delivery/discord-messenger.ts';
import type { JobDesk } from './jobs/job-desk.ts';
import type { ResultOutbox } from './results/result-outbox.ts';
import type { ResultStore } from './results/result-store.ts';
import type { ChannelDirectory } from './moderation/settings-scope.ts';
import type { Cooldown } from './moderation/cooldown.ts';
import type { CommandPermissionChecker } from './moderation/command-permissions.ts';
import type { InitImageStore } from './attachments/init-image-store.ts';
import type { AttachmentLimits } from './attachments/fetch-attachment.ts';

/** The operator's moderation choices, from the environment. */
export interface ModerationPolicy {
  /** /imagine answers in DMs with the bot. */
  allowDms: boolean;
  /** Between one member's 🔁 rerolls. */
  rerollCooldown: Cooldown;
  /** How long the answer to a refused 🔁 reaction stays in the channel. */
  noticeLifetimeMs: number;
  /** Models without a safety checker that the operator vouches draw nothing explicit (IMAGINE_SFW_MODELS). */
  sfwModels: readonly string[];
}

/** What command, button and reaction handlers work with. */
export interface BotContext {
  jobs: JobDesk;
  settings: ChannelSettingsStore;
  /** Server-wide settings (/settings server). */
  servers: ServerSettingsStore;
  /** Whose settings apply in a channel (a thread's are its parent's). */
  channels: ChannelDirectory;
  moderation: ModerationPolicy;
  /** Discord's per-command permission overrides, for actions that are not the command itself (🔁). */
  commandPermissions: CommandPermissionChecker;
  /** Members' own /imagine defaults (/prefs). */
  prefs: UserPrefsStore;
  /** The models members can choose from. */
  models: ModelDirectory;
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
  /** Suggestions for an option marked `autocomplete`. */
  autocomplete?(interaction: AutocompleteInteraction, context: BotContext): Promise<void>;
}
