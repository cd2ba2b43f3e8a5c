import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ensureModel } from './builder/index.ts';

/** `models/` at the project root, whatever the working directory. */
export const MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));
export const DEFAULT_MODEL_NAME = 'tiny-sd';

export interface EnsureDefaultModelOptions {
  /** Default: $IMAGINE_MODELS_DIR, else the project's models/ folder. */
  modelsDir?: string;
  /** Called before a build starts (it takes a few seconds), e.g. to tell the user. */
  onBuild?: (dir: string) => void;
}

/**
 * The default model, `models/tiny-sd`: a miniature random-weight SD built locally on first use,
 * so the project works with no download. It draws abstract images; see README for real models.
 */
export async function ensureDefaultModel(options: EnsureDefaultModelOptions = {}): Promise<string> {
  const dir = join(options.modelsDir ?? process.env.IMAGINE_MODELS_DIR ?? MODELS_DIR, DEFAULT_MODEL_NAME);
  if (!existsSync(join(dir, 'model_index.json'))) options.onBuild?.(dir);
  await ensureModel(dir);
  return dir;
}
