import { REST } from 'discord.js';
import type { Logger } from 'pino';
import { describeConfig } from '../bot/config.ts';
import { DiscordMessenger } from '../bot/delivery/discord-messenger.ts';
import { openEngine } from '../bot/engine-loader.ts';
import { connectRedis } from '../bot/jobs/bullmq/redis-client.ts';
import { ResultOutbox, type OutboxEntry } from '../bot/results/result-outbox.ts';
import { InitImageStore } from '../bot/attachments/init-image-store.ts';
import { ResultStore, type ResultRecord } from '../bot/results/result-store.ts';
import { openStoreBackend } from '../bot/settings/stores.ts';
import type { Engine } from '../engine/types.ts';
import { loadWorkerConfig, type WorkerConfig } from '../worker/config.ts';
import { GpuWorker } from '../worker/gpu-worker.ts';
import { runService, stopOnSignals } from './service-process.ts';

async function start(config: WorkerConfig, logger: Logger): Promise<void> {
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

  stopOnSignals(logger, async () => {
    await worker.stop(config.shutdownGraceMs);
    await stores.close();
    await closeEngines();
    messenger.close();
    rest.clearHashSweeper();
    rest.clearHandlerSweeper();
  });
}

/**
 * `npm run worker`: a distributed-mode worker, serving its models until SIGINT/SIGTERM. A failed start
 * exits at once: what it opened before failing (Redis, stores, engines) would keep the process alive.
 */
await runService({ loadConfig: loadWorkerConfig, start, onFailedStart: 'exit' });
