import type { ComponentName, TextEncoderOptions, TinySdOptions, UnetOptions } from './options.ts';

/** The builder's presets: SD 1.5 and SDXL layouts, at toy width for tests and at full size for GPU benchmarks. */

const SD_COMPONENTS: ComponentName[] = ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder'];

const SD_UNET_EXTRAS: Pick<UnetOptions, 'transformerLayers' | 'attentionHeadDim' | 'addedTimeEmbedDim' | 'timeCondProjDim'> = {
  transformerLayers: [1, 1, 1, 1],
  attentionHeadDim: null,
  addedTimeEmbedDim: null,
  timeCondProjDim: null,
};

/** A second encoder for the sd presets: never built, there so every preset has the same shape. */
const UNUSED_TEXT_ENCODER_2: TextEncoderOptions = {
  vocabSize: null,
  hiddenSize: 64,
  intermediateSize: 128,
  layers: 1,
  heads: 2,
  maxPositionEmbeddings: 77,
  hiddenAct: 'gelu',
  projectionDim: 64,
};

const COMMON = {
  family: 'sd',
  seed: 0,
  float16: false,
  inputIdsDtype: 'int32',
  timestepDtype: 'float32',
  timestepShape: '1',
  predictionType: 'epsilon',
  schedulerClass: 'PNDMScheduler',
  externalData: 'auto',
  components: SD_COMPONENTS,
  safetyChecker: false,
  safetyThreshold: 1.5,
  tokenizer: { merges: 1000 },
} as const;

/**
 * The default model: every part of SD 1.5's architecture at toy width, sized so one UNet call at
 * batch 2 on 64x64 latents stays around 100 ms on two CPU cores. Attention sits only on the 32x32
 * level and the mid block: at 64x64 one attention map alone would be 4096x4096 per head.
 */
export const TINY_PRESET: TinySdOptions = {
  ...COMMON,
  preset: 'tiny',
  components: [...SD_COMPONENTS],
  tokenizer: { ...COMMON.tokenizer },
  textEncoder: { vocabSize: null, hiddenSize: 64, intermediateSize: 256, layers: 1, heads: 2, maxPositionEmbeddings: 77, hiddenAct: 'quick_gelu', projectionDim: null },
  textEncoder2: UNUSED_TEXT_ENCODER_2,
  unet: {
    ...SD_UNET_EXTRAS,
    transformerLayers: [1, 1, 1],
    sampleSize: 64,
    blockOutChannels: [32, 64, 64],
    layersPerBlock: 1,
    attentionHeads: 2,
    attentionLevels: [false, true, false],
    normGroups: 8,
    crossAttentionDim: null,
  },
  vaeDecoder: { blockOutChannels: [32, 32, 16, 8], normGroups: 4 },
};

/** SD 1.5's real sizes (UNet 859.5M, CLIP text 123.1M parameters) with random weights, for GPU benchmarks. */
export const SD15_PRESET: TinySdOptions = {
  ...COMMON,
  preset: 'sd15',
  components: [...SD_COMPONENTS],
  tokenizer: { ...COMMON.tokenizer },
  textEncoder: { vocabSize: 49408, hiddenSize: 768, intermediateSize: 3072, layers: 12, heads: 12, maxPositionEmbeddings: 77, hiddenAct: 'quick_gelu', projectionDim: null },
  textEncoder2: UNUSED_TEXT_ENCODER_2,
  unet: {
    ...SD_UNET_EXTRAS,
    sampleSize: 64,
    blockOutChannels: [320, 640, 1280, 1280],
    layersPerBlock: 2,
    attentionHeads: 8,
    attentionLevels: [true, true, true, false],
    normGroups: 32,
    crossAttentionDim: null,
  },
  vaeDecoder: { blockOutChannels: [512, 512, 256, 128], normGroups: 32 },
};

const SDXL_COMPONENTS: ComponentName[] = ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder'];

/**
 * SDXL's layout at toy width: two text encoders (the second with a projection and exact gelu),
 * no attention on the first level, deeper transformers below, the text_time added conditions,
 * SDXL's scheduler and VAE scaling. Native 512 px (sample_size 64) so CPU runs stay quick.
 */
export const TINY_SDXL_PRESET: TinySdOptions = {
  ...COMMON,
  preset: 'tiny-sdxl',
  family: 'sdxl',
  schedulerClass: 'EulerDiscreteScheduler',
  components: [...SDXL_COMPONENTS],
  tokenizer: { ...COMMON.tokenizer },
  textEncoder: { vocabSize: null, hiddenSize: 32, intermediateSize: 64, layers: 2, heads: 2, maxPositionEmbeddings: 77, hiddenAct: 'quick_gelu', projectionDim: null },
  textEncoder2: { vocabSize: null, hiddenSize: 64, intermediateSize: 128, layers: 2, heads: 2, maxPositionEmbeddings: 77, hiddenAct: 'gelu', projectionDim: 64 },
  unet: {
    sampleSize: 64,
    blockOutChannels: [32, 64, 64],
    layersPerBlock: 1,
    attentionHeads: 2,
    attentionLevels: [false, true, true],
    normGroups: 8,
    crossAttentionDim: null,
    transformerLayers: [1, 1, 2],
    attentionHeadDim: null,
    addedTimeEmbedDim: 8,
    timeCondProjDim: null,
  },
  vaeDecoder: { blockOutChannels: [32, 32, 16, 8], normGroups: 4 },
};

/**
 * SDXL base's real sizes with random weights, for GPU benchmarks: UNet 2,567,463,684 parameters,
 * CLIP ViT-L (123.1 M) and OpenCLIP bigG with projection (694.7 M), SD's VAE decoder.
 */
export const SDXL_PRESET: TinySdOptions = {
  ...COMMON,
  preset: 'sdxl',
  family: 'sdxl',
  schedulerClass: 'EulerDiscreteScheduler',
  components: [...SDXL_COMPONENTS],
  tokenizer: { ...COMMON.tokenizer },
  textEncoder: { ...SD15_PRESET.textEncoder },
  textEncoder2: { vocabSize: 49408, hiddenSize: 1280, intermediateSize: 5120, layers: 32, heads: 20, maxPositionEmbeddings: 77, hiddenAct: 'gelu', projectionDim: 1280 },
  unet: {
    sampleSize: 128,
    blockOutChannels: [320, 640, 1280],
    layersPerBlock: 2,
    attentionHeads: 8,
    attentionLevels: [false, true, true],
    normGroups: 32,
    crossAttentionDim: null,
    transformerLayers: [1, 2, 10],
    attentionHeadDim: 64,
    addedTimeEmbedDim: 256,
    timeCondProjDim: null,
  },
  vaeDecoder: { ...SD15_PRESET.vaeDecoder },
};

export const PRESETS: Readonly<Record<TinySdOptions['preset'], TinySdOptions>> = { tiny: TINY_PRESET, sd15: SD15_PRESET, 'tiny-sdxl': TINY_SDXL_PRESET, sdxl: SDXL_PRESET };
