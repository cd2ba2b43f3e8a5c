import { Client, Events, GatewayIntentBits, Partials } from 'discord.js';
import type { Logger } from 'pino';
import type { Engine } from '../engine/types.ts';
import { ChannelSettingsStore, type ChannelSettings } from './settings/channel-settings.ts';
import type { BotContext } from './context.ts';
import { DiscordMessenger } from './delivery/discord-messenger.ts';
import { routeInteraction } from './interactions/interaction-router.ts';
import type { Job } from './jobs/job.ts';
import { InProcessJobQueue, type JobQueue } from './jobs/job-queue.ts';
import { JobService } from './jobs/job-service.ts';
import { JournaledJobQueue } from './jobs/journaled-job-queue.ts';
import { handleReaction } from './interactions/reactions.ts';
import { ResultOutbox, type OutboxEntry } from './results/result-outbox.ts';
import { ResultStore, type ResultRecord } from './results/result-store.ts';
import type { StoreBackend } from './settings/stores.ts';

export interface ImagineBotOptions {
  discord: { token: string; applicationId: string; apiUrl: string };
  engine: Engine;
  stores: StoreBackend;
  logger: Logger;
  concurrency: number;
  previewIntervalMs: number;
  maxQueuedPerUser: number;
  uploadLimitBytes: number;
  shutdownGraceMs: number;
  /** A different queue implementation (e.g. shared across processes); defaults to the in-process one. */
  queue?: JobQueue<Job>;
}

/** The Discord side of the bot: one gateway connection, the job queue, and the handlers. */
export class ImagineBot {
  readonly client: Client;
  readonly context: BotContext;
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
    const queueOptions = {
      concurrency: options.concurrency,
      maxQueuedPerUser: options.maxQueuedPerUser,
      onError: (error: unknown, jobId: string) => logger.error({ err: error, jobId }, 'job queue error'),
    };
    const { journal } = options.stores;
    const queue =
      options.queue ?? (journal ? new JournaledJobQueue(journal, queueOptions) : new InProcessJobQueue<Job>(queueOptions));
    const results = new ResultStore(options.stores.open<ResultRecord>('results'));
    const outbox = new ResultOutbox(options.stores.open<OutboxEntry>('outbox'), options.stores.open<string[]>('outbox-index'));
    this.context = {
      jobs: new JobService({
        engine: options.engine,
        queue,
        messenger,
        results,
        outbox,
        logger,
        previewIntervalMs: options.previewIntervalMs,
        uploadLimitBytes: options.uploadLimitBytes,
      }),
      settings: new ChannelSettingsStore(options.stores.open<ChannelSettings>('settings')),
      results,
      outbox,
      messenger,
      engineInfo: options.engine.info,
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
    const resumed = this.context.jobs.resumeUnfinished();
    const { model, provider, providerReason } = this.options.engine.info;
    this.options.logger.info(
      { user: this.client.user?.tag, guilds: this.client.guilds.cache.size, model: model.name, provider, providerReason, resumedJobs: resumed },
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
