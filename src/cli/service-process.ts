import { config as loadDotenv } from 'dotenv';
import type { Logger } from 'pino';
import { ConfigError, type LogLevel } from '../bot/config.ts';
import { createLogger } from '../bot/logger.ts';

/*
 * What the long-running processes (`npm start`, `npm run worker`) do around their own work: read .env and
 * their configuration, make the logger, report a failed start, and stop cleanly on SIGINT/SIGTERM.
 */

export interface ServiceProcess<Config extends { logLevel: LogLevel }> {
  loadConfig: (env: NodeJS.ProcessEnv) => Config;
  /** Starts the service; it runs on after this resolves, until a signal. */
  start: (config: Config, logger: Logger) => Promise<void>;
  /**
   * After a failed start, exit at once, or only set the exit code and let the process end when nothing
   * is left open (a `start` that closes all it opened before throwing).
   */
  onFailedStart: 'exit' | 'set-exit-code';
}

export async function runService<Config extends { logLevel: LogLevel }>(service: ServiceProcess<Config>): Promise<void> {
  loadDotenv({ quiet: true });
  let config: Config;
  try {
    config = service.loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel });
  try {
    await service.start(config, logger);
  } catch (error) {
    // Startup failures are the operator's to fix: one line that says what, not a stack.
    const reason = error instanceof Error ? error.message : String(error);
    logger.debug({ err: error }, 'startup failure detail');
    logger.fatal(`could not start: ${reason}`);
    logger.flush();
    if (service.onFailedStart === 'exit') process.exit(1);
    process.exitCode = 1;
  }
}

/** On SIGINT or SIGTERM: `stop`, then exit 0 (1 if stopping failed). A second signal exits at once. */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>): void {
  let signalled = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'signal received');
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
