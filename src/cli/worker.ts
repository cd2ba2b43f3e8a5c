import { config as loadDotenv } from 'dotenv';
import { REST } from 'discord.js';
import type { Logger } from 'pino';
import { ConfigError, describeConfig } from '../bot/config.ts';
import { DiscordMessenger } from '../bot/delivery/discord-messenger.ts';
import { openEngine } from '../bot/engine-loader.ts';
import { connectRedis } from '../bot/jobs/bullmq/redis-client.ts';
import { createLogger } from '../bot/logger.ts';
import { ResultOutbox, type OutboxEntry } from '../bot/results/result-outbox.ts';
import { InitImageStore } from '../bot/attachments/init-image-store.ts';
import { ResultStore, type ResultRecord } from '../bot/results/result-store.ts';
import { openStoreBackend } from '../bot/settings/stores.ts';
import type { Engine } from '../engine/types.ts';
import { loadWorkerConfig, type WorkerConfig } from '../worker/config.ts';
import { GpuWorker } from '../worker/gpu-worker.ts';

/** `npm run worker`: a distributed-mode worker, serving its models until SIGINT/SIGTERM. */
async function main(): Promise<void> {
  loadDotenv({ quiet: true });
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel });
  try {
    await run(config, logger);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    logger.debug({ err: error }, 'startup failure detail');
    logger.fatal(`could not start: ${reason}`);
    logger.flush();
    process.exit(1);
  }
}

async function run(config: WorkerConfig, logger: Logger): Promise<void> {
  const { queueUrl, workerId } = config;
  logger.info({ config: describeConfig(config), workerId, models: config.modelDirs }, 'starting worker');
  const engines = new Map<string, Engine>();
  const closeEngines = () => Promise.allSettled([...engines.values()].map((engine) => engine.close()));
  try {
    for (const modelDir of config.modelDirs) {
      const engine = await openEngine({ modelDir, provider: config.provider, concurrency: config.concurrency, logger: logger.child({ component: 'engine', modelDir }) });
      engines.set(engine.info.model.name, engine);
    }
  } catch (error) {
    await closeEngines();
    throw error;
  }
  const rest = new REST({ api: config.discord.apiUrl }).setToken(config.discord.token);
  const messenger = DiscordMessenger.create({ rest, apiUrl: config.discord.apiUrl, token: config.discord.token, applicationId: config.discord.applicationId });
  const stores = openStoreBackend(config.storeUrl, {
    onConnectionError: (error) => logger.debug({ err: error }, 'store connection error (reconnecting)'),
  });
  const worker = await GpuWorker.start({
    id: workerId,
    host: config.host,
    engines,
    connect: (name) => connectRedis({ url: queueUrl, name: `imagine-${name}-${workerId}`, logger }),
    messenger,
    results: new ResultStore(stores.open<ResultRecord>('results')),
    outbox: new ResultOutbox(stores.open<OutboxEntry>('outbox'), stores.open<string[]>('outbox-index')),
    images: new InitImageStore(stores.open<string>('init-images')),
    logger,
    concurrency: config.concurrency,
    lockDurationMs: config.lockDurationMs,
    heartbeatMs: config.heartbeatMs,
    previewIntervalMs: config.previewIntervalMs,
    uploadLimitBytes: config.uploadLimitBytes,
  });

  let signalled = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'signal received');
    worker
      .stop(config.shutdownGraceMs)
      .then(() => stores.close())
      .then(() => closeEngines())
      .then(() => {
        messenger.close();
        rest.clearHashSweeper();
        rest.clearHandlerSweeper();
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

await main();
