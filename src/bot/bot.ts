import { Client, Events, GatewayIntentBits, Partials } from 'discord.js';
import type { Logger } from 'pino';
import type { Engine, EngineInfo } from '../engine/types.ts';
import { ChannelSettingsStore, type ChannelSettings } from './settings/channel-settings.ts';
import type { BotContext } from './context.ts';
import { DiscordMessenger } from './delivery/discord-messenger.ts';
import { routeInteraction } from './interactions/interaction-router.ts';
import type { Job } from './jobs/job.ts';
import { InProcessJobQueue, type JobQueue } from './jobs/job-queue.ts';
import type { JobDesk } from './jobs/job-desk.ts';
import { JobService } from './jobs/job-service.ts';
import { JournaledJobQueue } from './jobs/journaled-job-queue.ts';
import { handleReaction } from './interactions/reactions.ts';
import { ResultOutbox, type OutboxEntry } from './results/result-outbox.ts';
import { ResultStore, type ResultRecord } from './results/result-store.ts';
import type { StoreBackend } from './settings/stores.ts';
import { ServerSettingsStore, type ServerSettings } from './settings/server-settings.ts';
import { DiscordChannelDirectory } from './moderation/settings-scope.ts';
import { Cooldown } from './moderation/cooldown.ts';
import { DiscordCommandPermissions } from './moderation/command-permissions.ts';
import { UserPrefsStore, type UserPrefs } from './settings/user-prefs.ts';
import { engineModelDirectory, singleModelDirectory, type ModelDirectory } from './models/served-models.ts';
import { InitImageStore } from './attachments/init-image-store.ts';
import { DEFAULT_ATTACHMENT_LIMITS, type AttachmentLimits } from './attachments/fetch-attachment.ts';

export interface ImagineBotOptions {
  discord: { token: string; applicationId: string; apiUrl: string };
  /** The embedded mode's engine; absent in the distributed mode's gateway, which runs no job itself. */
  engine?: Engine;
  stores: StoreBackend;
  logger: Logger;
  concurrency: number;
  previewIntervalMs: number;
  maxQueuedPerUser: number;
  uploadLimitBytes: number;
  shutdownGraceMs: number;
  /** What /imagine image: accepts (IMAGINE_ATTACHMENT_HOSTS…); Discord's CDN and 10 MiB by default. */
  attachmentLimits?: AttachmentLimits;
  /** A different queue implementation (e.g. shared across processes); defaults to the in-process one. */
  queue?: JobQueue<Job>;
  /** The distributed mode: jobs go to workers through this desk instead of running here. */
  distributed?: { jobs: JobDesk; engineInfo: EngineInfo; models?: ModelDirectory };
  /** Defaults: no DMs, 10 s between a member's rerolls, refusal notices kept 15 s. */
  moderation?: { allowDms?: boolean; rerollCooldownMs?: number; noticeLifetimeMs?: number; sfwModels?: readonly string[] };
}

const DEFAULT_REROLL_COOLDOWN_MS = 10_000;
const DEFAULT_NOTICE_LIFETIME_MS = 15_000;

/** The Discord side of the bot: one gateway connection, the job queue, and the handlers. */
export class ImagineBot {
  readonly client: Client;
  readonly context: BotContext;
  /** The embedded mode's job service (absent in the distributed mode). */
  readonly #service: JobService | undefined;
  #stopping: Promise<void> | undefined;

  constructor(private readonly options: ImagineBotOptions) {
    const { logger } = options;
    this.client = new Client({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessageReactions],
      // Reactions on messages from before a restart arrive for uncached messages: accept them as partials.
      partials: [Partials.Message, Partials.Channel, Partials.Reaction, Partials.User],
      rest: { api: options.discord.apiUrl },
    });
    const messenger = DiscordMessenger.create({
      rest: this.client.rest,
      apiUrl: options.discord.apiUrl,
      token: options.discord.token,
      applicationId: options.discord.applicationId,
    });
    const { distributed, engine } = options;
    if (!distributed && !engine) throw new Error('ImagineBot needs an engine, or a distributed job desk');
    const queueOptions = {
      concurrency: options.concurrency,
      maxQueuedPerUser: options.maxQueuedPerUser,
      onError: (error: unknown, jobId: string) => logger.error({ err: error, jobId }, 'job queue error'),
    };
    const { journal } = options.stores;
    const results = new ResultStore(options.stores.open<ResultRecord>('results'));
    const outbox = new ResultOutbox(options.stores.open<OutboxEntry>('outbox'), options.stores.open<string[]>('outbox-index'));
    const images = new InitImageStore(options.stores.open<string>('init-images'));
    this.#service =
      engine && !distributed
        ? new JobService({
            engine,
            queue: options.queue ?? (journal ? new JournaledJobQueue(journal, queueOptions) : new InProcessJobQueue<Job>(queueOptions)),
            messenger,
            results,
            outbox,
            images,
            logger,
            previewIntervalMs: options.previewIntervalMs,
            uploadLimitBytes: options.uploadLimitBytes,
          })
        : undefined;
    this.context = {
      jobs: distributed?.jobs ?? this.#service!,
      settings: new ChannelSettingsStore(options.stores.open<ChannelSettings>('settings')),
      servers: new ServerSettingsStore(options.stores.open<ServerSettings>('server-settings')),
      channels: new DiscordChannelDirectory(this.client),
      commandPermissions: new DiscordCommandPermissions(this.client.rest, options.discord.applicationId),
      moderation: {
        allowDms: options.moderation?.allowDms ?? false,
        rerollCooldown: new Cooldown(options.moderation?.rerollCooldownMs ?? DEFAULT_REROLL_COOLDOWN_MS),
        noticeLifetimeMs: options.moderation?.noticeLifetimeMs ?? DEFAULT_NOTICE_LIFETIME_MS,
        sfwModels: options.moderation?.sfwModels ?? [],
      },
      prefs: new UserPrefsStore(options.stores.open<UserPrefs>('prefs')),
      models: distributed ? (distributed.models ?? singleModelDirectory(distributed.engineInfo)) : engineModelDirectory(engine!),
      results,
      outbox,
      images,
      attachmentLimits: options.attachmentLimits ?? DEFAULT_ATTACHMENT_LIMITS,
      messenger,
      engineInfo: distributed?.engineInfo ?? engine!.info,
      concurrency: options.concurrency,
      logger,
    };

    this.client.on(Events.InteractionCreate, (interaction) => void routeInteraction(interaction, this.context));
    this.client.on(Events.MessageReactionAdd, (reaction, user) => {
      handleReaction(reaction, user, this.context, this.client.user?.id).catch((error: unknown) =>
        logger.error({ err: error }, 'reaction handling failed'),
      );
    });
    this.client.on(Events.Error, (error) => logger.error({ err: error }, 'discord client error'));
    this.client.on(Events.Warn, (message) => logger.warn({ discord: message }, 'discord client warning'));
  }

  /** Connects to the gateway; resolves once the bot is ready to receive interactions. */
  async start(): Promise<void> {
    const ready = new Promise<void>((resolve) => this.client.once(Events.ClientReady, () => resolve()));
    await this.client.login(this.options.discord.token);
    await ready;
    // In the distributed mode, unfinished jobs live on in Redis and workers carry on with them.
    const resumed = this.#service?.resumeUnfinished() ?? 0;
    const { model, provider, providerReason } = this.context.engineInfo;
    this.options.logger.info(
      {
        user: this.client.user?.tag,
        guilds: this.client.guilds.cache.size,
        model: model.name,
        provider,
        providerReason,
        resumedJobs: resumed,
        distributed: Boolean(this.options.distributed),
      },
      'bot ready',
    );
  }

  /**
   * Stops taking jobs, tells waiting users, lets the running job finish within the grace period (else
   * cancels it), flushes the stores and disconnects. Safe to call more than once.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const { logger } = this.options;
    logger.info({ graceMs: this.options.shutdownGraceMs }, 'shutting down');
    await this.context.jobs.shutdown(this.options.shutdownGraceMs);
    await this.options.stores.flush();
    this.context.messenger.close();
    await this.client.destroy();
    logger.info('stopped');
  }
}
