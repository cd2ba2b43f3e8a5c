import { config as loadDotenv } from 'dotenv';
import type { Logger } from 'pino';
import { ImagineBot } from '../bot/bot.ts';
import { ConfigError, describeConfig, loadConfig, type BotConfig } from '../bot/config.ts';
import { DEFAULT_ATTACHMENT_LIMITS } from '../bot/attachments/fetch-attachment.ts';
import { openEngine } from '../bot/engine-loader.ts';
import { openGateway } from '../bot/jobs/bullmq/open-gateway.ts';
import { createLogger } from '../bot/logger.ts';
import { openStoreBackend } from '../bot/settings/stores.ts';
import { EngineError } from '../engine/types.ts';

/** `npm start`: runs the bot until SIGINT/SIGTERM. */
async function main(): Promise<void> {
  loadDotenv({ quiet: true });
  let config: BotConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel });
  try {
    await run(config, logger);
  } catch (error) {
    // Startup failures are the operator's to fix: one line that says what, not a stack.
    const reason = error instanceof EngineError || error instanceof Error ? error.message : String(error);
    logger.debug({ err: error }, 'startup failure detail');
    logger.fatal(`could not start: ${reason}`);
    logger.flush();
    process.exitCode = 1;
  }
}

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

async function run(config: BotConfig, logger: Logger): Promise<void> {
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

  let signalled = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'signal received');
    bot
      .stop()
      .then(() => stores.close())
      .then(() => jobs.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'error during shutdown');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  try {
    await bot.start();
  } catch (error) {
    await Promise.allSettled([bot.client.destroy(), stores.close(), jobs.close()]);
    throw error;
  }
}

await main();
