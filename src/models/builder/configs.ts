import { BUILDER_VERSION } from './onnx-writer.ts';
import type { ComponentName, TinySdOptions } from './options.ts';

/** Pinned so two builds, or two builder versions that agree on the model, write identical files. */
const DIFFUSERS_VERSION = '0.32.2';

/**
 * model_index.json as OnnxStableDiffusionPipeline.save_pretrained writes it for an SD 1.5 export.
 * A partial build (`components`) lists only the ONNX models it wrote; the others are [null, null],
 * diffusers' entry for an absent part (like the safety checker, unless asked for).
 */
export function modelIndex(o: TinySdOptions): Record<string, unknown> {
  const onnxModel = (name: ComponentName): [string, string] | [null, null] =>
    o.components.includes(name) ? ['diffusers', 'OnnxRuntimeModel'] : [null, null];
  if (o.family === 'sdxl') return sdxlModelIndex(o, onnxModel);
  return {
    _class_name: 'OnnxStableDiffusionPipeline',
    _diffusers_version: DIFFUSERS_VERSION,
    scheduler: ['diffusers', o.schedulerClass],
    text_encoder: onnxModel('text_encoder'),
    tokenizer: ['transformers', 'CLIPTokenizer'],
    unet: onnxModel('unet'),
    vae_decoder: onnxModel('vae_decoder'),
    vae_encoder: onnxModel('vae_encoder'),
    safety_checker: o.safetyChecker ? ['diffusers', 'OnnxRuntimeModel'] : [null, null],
    feature_extractor: o.safetyChecker ? ['transformers', 'CLIPImageProcessor'] : [null, null],
    requires_safety_checker: o.safetyChecker,
    // Lets ensureModel tell a folder built by an older builder (different graphs) from a current one.
    _imagine_builder_version: BUILDER_VERSION,
  };
}

/** model_index.json as optimum's ORTStableDiffusionXLPipeline writes it for an SDXL export. */
function sdxlModelIndex(o: TinySdOptions, onnxModel: (name: ComponentName) => [string, string] | [null, null]): Record<string, unknown> {
  return {
    _class_name: 'ORTStableDiffusionXLPipeline',
    _diffusers_version: DIFFUSERS_VERSION,
    force_zeros_for_empty_prompt: true,
    scheduler: ['diffusers', o.schedulerClass],
    text_encoder: onnxModel('text_encoder'),
    text_encoder_2: onnxModel('text_encoder_2'),
    tokenizer: ['transformers', 'CLIPTokenizer'],
    tokenizer_2: ['transformers', 'CLIPTokenizer'],
    unet: onnxModel('unet'),
    vae_decoder: onnxModel('vae_decoder'),
    vae_encoder: onnxModel('vae_encoder'),
    _imagine_builder_version: BUILDER_VERSION,
  };
}

/** SDXL base's scheduler_config.json (EulerDiscreteScheduler, leading spacing, steps_offset 1). */
function sdxlSchedulerConfig(o: TinySdOptions): Record<string, unknown> {
  return {
    _class_name: o.schedulerClass,
    _diffusers_version: '0.19.0.dev0',
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    beta_start: 0.00085,
    clip_sample: false,
    interpolation_type: 'linear',
    num_train_timesteps: 1000,
    prediction_type: o.predictionType,
    sample_max_value: 1.0,
    set_alpha_to_one: false,
    skip_prk_steps: true,
    steps_offset: 1,
    timestep_spacing: 'leading',
    trained_betas: null,
    use_karras_sigmas: false,
  };
}

/**
 * SD 1.5's scheduler_config.json key for key (and in its order) by default; prediction_type is only
 * written when it is not diffusers' default epsilon, as SD 2.x's v-prediction configs do.
 */
export function schedulerConfig(o: TinySdOptions): Record<string, unknown> {
  if (o.family === 'sdxl') return sdxlSchedulerConfig(o);
  return {
    _class_name: o.schedulerClass,
    _diffusers_version: '0.6.0',
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    beta_start: 0.00085,
    num_train_timesteps: 1000,
    set_alpha_to_one: false,
    skip_prk_steps: true,
    steps_offset: 1,
    trained_betas: null,
    clip_sample: false,
    ...(o.predictionType === 'epsilon' ? {} : { prediction_type: o.predictionType }),
  };
}

export function jsonFile(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
