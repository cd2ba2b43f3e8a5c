import type { Logger } from 'pino';
import { createEngine, EnginePool } from '../engine/index.ts';
import type { Engine, ProviderChoice } from '../engine/types.ts';
import { defaultModelDir, resolveModelDir } from '../models/default-model.ts';
import { DEFAULT_MODEL_DIR } from './config.ts';

/**
 * Opens the diffusion engine(s) for the bot (the committed emoji-sd by default; a tiny-sd folder is
 * built on first use). Only the
 * CLI imports this module: the bot itself (and its unit tests) depend on the `Engine` interface
 * alone, so they never load onnxruntime.
 */
export async function openEngine(options: { modelDir: string; provider: ProviderChoice; logger: Logger; concurrency: number }): Promise<Engine> {
  const modelDir =
    options.modelDir === DEFAULT_MODEL_DIR
      ? defaultModelDir()
      : await resolveModelDir(options.modelDir, (dir) => options.logger.info({ dir }, 'building the tiny model (tiny-sd, random weights)'));
  // One engine (worker + sessions) per concurrent job: an engine runs one job at a time.
  const engines: Engine[] = [];
  try {
    for (let i = 0; i < options.concurrency; i++) {
      engines.push(await createEngine({ modelDir, provider: options.provider, logger: options.logger.child({ engine: i }) }));
    }
  } catch (error) {
    await Promise.allSettled(engines.map((engine) => engine.close()));
    throw error;
  }
  return engines.length === 1 ? engines[0]! : new EnginePool(engines);
}
