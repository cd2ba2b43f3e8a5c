import type { Logger } from 'pino';
import { createEngine } from '../engine/index.ts';
import type { Engine, ProviderChoice } from '../engine/types.ts';
import { ensureDefaultModel } from '../models/default-model.ts';
import { DEFAULT_MODEL_DIR } from './config.ts';

/**
 * Opens the diffusion engine for the bot, building the default tiny model on first use. Only the
 * CLI imports this module: the bot itself (and its unit tests) depend on the `Engine` interface
 * alone, so they never load onnxruntime.
 */
export async function openEngine(options: { modelDir: string; provider: ProviderChoice; logger: Logger }): Promise<Engine> {
  const modelDir =
    options.modelDir === DEFAULT_MODEL_DIR
      ? await ensureDefaultModel({ onBuild: (dir) => options.logger.info({ dir }, 'building the default model (tiny-sd, random weights)') })
      : options.modelDir;
  return createEngine({ modelDir, provider: options.provider, logger: options.logger });
}
