import { basename, resolve } from 'node:path';
import type { Logger } from 'pino';
import { createEngine, EnginePool, resolveMemoryBudget } from '../engine/index.ts';
import type { Engine, ProviderChoice } from '../engine/types.ts';
import { defaultModelDir, resolveModelDir } from '../models/default-model.ts';
import { DEFAULT_MODEL_DIR } from './config.ts';

/**
 * Opens the diffusion engine(s) for the bot (the committed emoji-sd by default; a tiny-sd folder is
 * built on first use). Only the
 * CLI imports this module: the bot itself (and its unit tests) depend on the `Engine` interface
 * alone, so they never load onnxruntime.
 */
export async function openEngine(options: {
  modelDir: string;
  /** Further model folders members may choose with /imagine model: (modelDir stays the default). */
  modelDirs?: readonly string[];
  provider: ProviderChoice;
  logger: Logger;
  concurrency: number;
}): Promise<Engine> {
  const open = (dir: string) =>
    dir === DEFAULT_MODEL_DIR
      ? Promise.resolve(defaultModelDir())
      : resolveModelDir(dir, (built) => options.logger.info({ dir: built }, 'building the tiny model (tiny-sd, random weights)'));
  const modelDir = await open(options.modelDir);
  const others: string[] = [];
  for (const dir of options.modelDirs ?? []) if (dir !== options.modelDir) others.push(await open(dir));
  const models = others.length > 0 ? { modelDirs: [modelDir, ...others], defaultModel: basename(resolve(modelDir)) } : { modelDir };
  // One engine (worker + sessions) per concurrent job: an engine runs one job at a time. Each loads
  // its own copy of the models, so each gets an equal share of the one memory budget: together they
  // stay within it, rather than each assuming it has the whole machine.
  const memoryBudgetMb = perEngineBudgetMb(options.concurrency);
  const engines: Engine[] = [];
  try {
    for (let i = 0; i < options.concurrency; i++) {
      engines.push(await createEngine({ ...models, provider: options.provider, memoryBudgetMb, logger: options.logger.child({ engine: i }) }));
    }
  } catch (error) {
    await Promise.allSettled(engines.map((engine) => engine.close()));
    throw error;
  }
  return engines.length === 1 ? engines[0]! : new EnginePool(engines);
}

/** The machine's budget ($IMAGINE_MEMORY_BUDGET_MB, else 75 % of memory) split between `concurrency` engines. */
export function perEngineBudgetMb(concurrency: number, env: NodeJS.ProcessEnv = process.env): number {
  return resolveMemoryBudget(undefined, env) / 1024 ** 2 / Math.max(1, concurrency);
}
