import type { Logger } from 'pino';
import { ImagineBot } from '../bot/bot.ts';
import { describeConfig, loadConfig, type BotConfig } from '../bot/config.ts';
import { DEFAULT_ATTACHMENT_LIMITS } from '../bot/attachments/fetch-attachment.ts';
import { openEngine } from '../bot/engine-loader.ts';
import { openGateway } from '../bot/jobs/bullmq/open-gateway.ts';
import { openStoreBackend } from '../bot/settings/stores.ts';
import { runService, stopOnSignals } from './service-process.ts';

/** What the bot process runs jobs with: an engine here (embedded mode), or workers behind Redis (distributed). */
async function openJobs(config: BotConfig, logger: Logger) {
  if (config.queueUrl) {
    const gateway = await openGateway({
      queueUrl: config.queueUrl,
      modelDir: config.modelDir,
      discord: config.discord,
      maxQueuedPerUser: config.maxQueuedPerUser,
      previewIntervalMs: config.previewIntervalMs,
      logger,
    });
    return { distributed: { jobs: gateway.desk, engineInfo: gateway.engineInfo, models: gateway.models }, close: () => gateway.close() };
  }
  const engine = await openEngine({
    modelDir: config.modelDir,
    modelDirs: config.modelDirs,
    provider: config.provider,
    concurrency: config.concurrency,
    logger: logger.child({ component: 'engine' }),
  });
  return { engine, close: () => engine.close() };
}

async function start(config: BotConfig, logger: Logger): Promise<void> {
  logger.info({ config: describeConfig(config) }, 'starting');
  // Opened first: an unwritable or damaged store should stop the bot before minutes of model loading.
  const stores = openStoreBackend(config.storeUrl, {
    onConnectionError: (error) => logger.warn({ err: error }, 'store connection error (reconnecting)'),
  });
  logger.info({ store: stores.description }, 'store opened');
  let jobs: Awaited<ReturnType<typeof openJobs>>;
  try {
    jobs = await openJobs(config, logger);
  } catch (error) {
    await stores.close();
    throw error;
  }
  const bot = new ImagineBot({
    discord: config.discord,
    ...(jobs.engine ? { engine: jobs.engine } : {}),
    ...(jobs.distributed ? { distributed: jobs.distributed } : {}),
    stores,
    logger,
    concurrency: config.concurrency,
    previewIntervalMs: config.previewIntervalMs,
    maxQueuedPerUser: config.maxQueuedPerUser,
    uploadLimitBytes: config.uploadLimitBytes,
    shutdownGraceMs: config.shutdownGraceMs,
    moderation: { allowDms: config.allowDms, rerollCooldownMs: config.rerollCooldownMs, sfwModels: config.sfwModels },
    attachmentLimits: { ...DEFAULT_ATTACHMENT_LIMITS, hosts: config.attachmentHosts },
  });

  stopOnSignals(logger, async () => {
    await bot.stop();
    await stores.close();
    await jobs.close();
  });

  try {
    await bot.start();
  } catch (error) {
    await Promise.allSettled([bot.client.destroy(), stores.close(), jobs.close()]);
    throw error;
  }
}

/** `npm start`: runs the bot until SIGINT/SIGTERM. A failed start closes what it opened, so the process may end by itself. */
await runService({ loadConfig, start, onFailedStart: 'set-exit-code' });
