import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { basename, join } from 'node:path';
import { EngineError } from '../engine/types.ts';
import { ensureModel } from './builder/index.ts';

/** `models/` at the project root, whatever the working directory. */
export const MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));
/** The trained default model, committed with the project (see training/README.md). */
export const DEFAULT_MODEL_NAME = 'emoji-sd';
/** The random-weight miniature SD the builder makes on first use (any size; for tests and plumbing). */
export const TINY_MODEL_NAME = 'tiny-sd';

/**
 * The default model, `models/emoji-sd`: a tiny Stable Diffusion trained on Noto emoji, shipped in
 * the repository (no download, no build). It draws 64×64 emoji-style pictures of what you name.
 */
export function defaultModelDir(): string {
  const dir = join(MODELS_DIR, DEFAULT_MODEL_NAME);
  if (!existsSync(join(dir, 'model_index.json'))) {
    throw new EngineError('model-invalid', `${dir}: the default model is missing (it is committed with the project: git checkout -- models/${DEFAULT_MODEL_NAME})`);
  }
  return dir;
}

export interface EnsureTinyModelOptions {
  /** Default: $IMAGINE_MODELS_DIR, else the project's models/ folder. */
  modelsDir?: string;
  /** Called before a build starts (it takes a few seconds), e.g. to tell the user. */
  onBuild?: (dir: string) => void;
}

/**
 * `models/tiny-sd`: a miniature random-weight SD built locally on first use, so tests can run any
 * image size with no download. It draws abstract images.
 */
export async function ensureTinyModel(options: EnsureTinyModelOptions = {}): Promise<string> {
  const dir = join(options.modelsDir ?? process.env.IMAGINE_MODELS_DIR ?? MODELS_DIR, TINY_MODEL_NAME);
  if (!existsSync(join(dir, 'model_index.json'))) options.onBuild?.(dir);
  await ensureModel(dir);
  return dir;
}

/**
 * The model folder for a --model / IMAGINE_MODEL value: the default model when none is given; a
 * folder named `tiny-sd` is built there on first use; any other folder is used as it is.
 */
export async function resolveModelDir(model: string | undefined, onBuild?: (dir: string) => void): Promise<string> {
  if (model === undefined) return defaultModelDir();
  if (basename(model) !== TINY_MODEL_NAME) return model;
  if (!existsSync(join(model, 'model_index.json'))) onBuild?.(model);
  await ensureModel(model);
  return model;
}
