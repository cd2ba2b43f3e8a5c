import { ModelFileError } from './files.ts';

/** The pipeline families the engine assembles, as diffusers' `DiffusionPipeline.from_pretrained` picks a class. */
export type ModelFamily = 'sd' | 'sdxl' | 'unconditional';

/**
 * model_index.json `_class_name`s by family: diffusers' own pipeline classes, their ONNX twins
 * (`Onnx…` in diffusers, `ORT…` in optimum), and the variants that share the family's parts.
 */
const FAMILY_BY_CLASS: Readonly<Record<string, ModelFamily>> = {
  StableDiffusionPipeline: 'sd',
  OnnxStableDiffusionPipeline: 'sd',
  ORTStableDiffusionPipeline: 'sd',
  StableDiffusionImg2ImgPipeline: 'sd',
  OnnxStableDiffusionImg2ImgPipeline: 'sd',
  ORTStableDiffusionImg2ImgPipeline: 'sd',
  LatentConsistencyModelPipeline: 'sd',
  ORTLatentConsistencyModelPipeline: 'sd',
  StableDiffusionXLPipeline: 'sdxl',
  ORTStableDiffusionXLPipeline: 'sdxl',
  StableDiffusionXLImg2ImgPipeline: 'sdxl',
  ORTStableDiffusionXLImg2ImgPipeline: 'sdxl',
  DDPMPipeline: 'unconditional',
  DDIMPipeline: 'unconditional',
};

/** Which part folders a model folder has (those decide the family when the index names no class). */
export interface PartsPresent {
  textEncoder: boolean;
  textEncoder2: boolean;
}

/**
 * The family of a model folder: from model_index.json's `_class_name` when it has one, else from
 * the parts present (a second text encoder means SDXL, no text encoder an unconditional model).
 */
export function detectFamily(indexPath: string, index: Readonly<Record<string, unknown>>, parts: PartsPresent): ModelFamily {
  const className = index._class_name;
  if (className === undefined || className === null) {
    if (parts.textEncoder2) return 'sdxl';
    return parts.textEncoder ? 'sd' : 'unconditional';
  }
  if (typeof className !== 'string') throw new ModelFileError(indexPath, `"_class_name" must be a string, got ${JSON.stringify(className)}`);
  const family = FAMILY_BY_CLASS[className];
  if (!family) {
    const known = [...new Set(Object.keys(FAMILY_BY_CLASS).filter((name) => !/^(Onnx|ORT)/.test(name)))].join(', ');
    throw new ModelFileError(indexPath, `pipeline class "${className}" is not one this engine runs (it runs ${known} and their ONNX exports)`);
  }
  return family;
}
