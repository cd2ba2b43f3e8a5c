import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { RawSchedulerConfig, SchedulerName } from '../schedulers/scheduler.ts';
import { EngineError } from '../types.ts';
import { detectFamily, type ModelFamily } from './family.ts';
import { ModelFileError, readJsonFile } from './files.ts';

/** The parts of a diffusers ONNX folder the engine reads, located and pre-checked. */
export interface ModelFolder {
  dir: string;
  name: string;
  family: ModelFamily;
  /** model_index.json as read (family-specific flags such as `force_zeros_for_empty_prompt`). */
  index: Readonly<Record<string, unknown>>;
  indexPath: string;
  schedulerConfig: RawSchedulerConfig;
  /** The scheduler named by scheduler_config.json's `_class_name`, when we implement it. */
  nativeScheduler: SchedulerName | undefined;
  schedulerClassName: string;
  /** VAE latent scaling (vae_decoder/config.json `scaling_factor`, default SD's 0.18215). */
  scalingFactor: number;
  /** Latent size the UNet was trained at (unet/config.json `sample_size`), if the folder says. */
  sampleSize: number | undefined;
  /** unet/config.json as read, when the folder has one. */
  unetConfig: Readonly<Record<string, unknown>> | undefined;
  /** Where each part lives in the layout; only the parts of the folder's family are checked to exist. */
  tokenizerDir: string;
  tokenizer2Dir: string;
  textEncoderPath: string;
  textEncoder2Path: string;
  unetPath: string;
  vaeDecoderPath: string;
  /** Optional parts: present when their files are (img2img needs the encoder). */
  vaeEncoderPath: string;
  hasVaeEncoder: boolean;
  safetyCheckerPath: string;
  featureExtractorConfigPath: string;
  /** Both safety_checker/model.onnx and feature_extractor/preprocessor_config.json are there. */
  hasSafetyChecker: boolean;
}

/** The ONNX files each family cannot run without. */
function requiredParts(folder: Pick<ModelFolder, 'family' | 'textEncoderPath' | 'textEncoder2Path' | 'unetPath' | 'vaeDecoderPath'>): string[] {
  switch (folder.family) {
    case 'sd':
      return [folder.textEncoderPath, folder.unetPath, folder.vaeDecoderPath];
    case 'sdxl':
      return [folder.textEncoderPath, folder.textEncoder2Path, folder.unetPath, folder.vaeDecoderPath];
    case 'unconditional':
      return [folder.unetPath];
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const SCHEDULER_BY_CLASS: Readonly<Record<string, SchedulerName>> = {
  DDIMScheduler: 'ddim',
  DDPMScheduler: 'ddpm',
  PNDMScheduler: 'pndm',
  LMSDiscreteScheduler: 'lms',
  EulerDiscreteScheduler: 'euler',
  EulerAncestralDiscreteScheduler: 'euler-a',
  HeunDiscreteScheduler: 'heun',
  DPMSolverMultistepScheduler: 'dpm++2m',
  UniPCMultistepScheduler: 'unipc',
  LCMScheduler: 'lcm',
};

async function requireFile(path: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw ModelFileError.fromIo(path, error);
  }
  if (!info.isFile()) throw new ModelFileError(path, 'is not a regular file');
  if (info.size === 0) throw new ModelFileError(path, 'is empty (0 bytes): the download or build did not finish');
}

async function optionalJson<T>(path: string): Promise<T | undefined> {
  try {
    await stat(path);
  } catch {
    return undefined;
  }
  return readJsonFile<T>(path);
}

function positiveNumber(value: unknown, path: string, key: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ModelFileError(path, `"${key}" must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Locates and checks the files of a model folder, reading its small JSON configs. */
export async function readModelFolder(dirInput: string): Promise<ModelFolder> {
  const dir = resolve(dirInput);
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new EngineError('model-invalid', `${dir}: not a folder (a model is a folder in the diffusers ONNX layout)`);
  } catch (error) {
    if (error instanceof EngineError) throw error;
    throw new EngineError('model-invalid', `${dir}: model folder not found`, { cause: error });
  }

  const indexPath = join(dir, 'model_index.json');
  const index = await readJsonFile<unknown>(indexPath);
  if (typeof index !== 'object' || index === null || Array.isArray(index)) {
    throw new ModelFileError(indexPath, 'must be a JSON object (diffusers model_index.json)');
  }

  const schedulerPath = join(dir, 'scheduler', 'scheduler_config.json');
  const schedulerConfig = await readJsonFile<RawSchedulerConfig>(schedulerPath);
  if (typeof schedulerConfig !== 'object' || schedulerConfig === null || Array.isArray(schedulerConfig)) {
    throw new ModelFileError(schedulerPath, 'must be a JSON object');
  }
  const schedulerClassName = typeof schedulerConfig._class_name === 'string' ? schedulerConfig._class_name : 'PNDMScheduler';
  let nativeScheduler = SCHEDULER_BY_CLASS[schedulerClassName];
  if (nativeScheduler === 'dpm++2m' && schedulerConfig.use_karras_sigmas === true) nativeScheduler = 'dpm++2m-karras';

  const vaeConfigPath = join(dir, 'vae_decoder', 'config.json');
  const vaeConfig = await optionalJson<Record<string, unknown>>(vaeConfigPath);
  const scalingFactor = positiveNumber(vaeConfig?.scaling_factor, vaeConfigPath, 'scaling_factor', 0.18215);

  const unetConfigPath = join(dir, 'unet', 'config.json');
  const unetConfig = await optionalJson<Record<string, unknown>>(unetConfigPath);
  const sampleSizeValue = unetConfig?.sample_size;
  const sampleSize =
    sampleSizeValue === undefined || sampleSizeValue === null
      ? undefined
      : positiveNumber(Array.isArray(sampleSizeValue) ? sampleSizeValue[0] : sampleSizeValue, unetConfigPath, 'sample_size', 64);

  const paths = {
    tokenizerDir: join(dir, 'tokenizer'),
    tokenizer2Dir: join(dir, 'tokenizer_2'),
    textEncoderPath: join(dir, 'text_encoder', 'model.onnx'),
    textEncoder2Path: join(dir, 'text_encoder_2', 'model.onnx'),
    unetPath: join(dir, 'unet', 'model.onnx'),
    vaeDecoderPath: join(dir, 'vae_decoder', 'model.onnx'),
    vaeEncoderPath: join(dir, 'vae_encoder', 'model.onnx'),
    safetyCheckerPath: join(dir, 'safety_checker', 'model.onnx'),
    featureExtractorConfigPath: join(dir, 'feature_extractor', 'preprocessor_config.json'),
  };
  const family = detectFamily(indexPath, index as Record<string, unknown>, {
    textEncoder: await exists(join(dir, 'text_encoder')),
    textEncoder2: await exists(join(dir, 'text_encoder_2')),
  });
  for (const path of requiredParts({ family, ...paths })) await requireFile(path);

  return {
    dir,
    name: basename(dir),
    family,
    index: index as Record<string, unknown>,
    indexPath,
    schedulerConfig,
    nativeScheduler,
    schedulerClassName,
    scalingFactor,
    sampleSize,
    unetConfig,
    ...paths,
    hasVaeEncoder: family !== 'unconditional' && (await exists(paths.vaeEncoderPath)),
    hasSafetyChecker: family !== 'unconditional' && (await exists(paths.safetyCheckerPath)) && (await exists(paths.featureExtractorConfigPath)),
  };
}
