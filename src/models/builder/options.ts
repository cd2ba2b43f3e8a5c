export const PRESET_NAMES = ['tiny', 'sd15'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** diffusers' ONNX export feeds int32 ids; other exporters keep torch's int64. */
export const INPUT_IDS_DTYPES = ['int32', 'int64'] as const;
export type InputIdsDtype = (typeof INPUT_IDS_DTYPES)[number];

export const TIMESTEP_DTYPES = ['float32', 'float16', 'int64'] as const;
export type TimestepDtype = (typeof TIMESTEP_DTYPES)[number];

/** `'1'`: shape [1], as diffusers' ONNX export; `'scalar'`: shape []; `'batch'`: one timestep per sample. */
export const TIMESTEP_SHAPES = ['scalar', '1', 'batch'] as const;
export type TimestepShape = (typeof TIMESTEP_SHAPES)[number];

export const PREDICTION_TYPES = ['epsilon', 'v_prediction'] as const;
export type PredictionType = (typeof PREDICTION_TYPES)[number];

export const COMPONENT_NAMES = ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder'] as const;
export type ComponentName = (typeof COMPONENT_NAMES)[number];

/** `auto`: external data only for models whose weights would not fit comfortably in one protobuf. */
export const EXTERNAL_DATA_MODES = ['auto', 'always', 'never'] as const;
export type ExternalDataMode = (typeof EXTERNAL_DATA_MODES)[number];

export interface TokenizerOptions {
  /** BPE merges to learn from the built-in corpus (fewer if the corpus runs out of pairs). */
  merges: number;
}

export interface TextEncoderOptions {
  /** Embedding rows; null: exactly the tokenizer's vocabulary. */
  vocabSize: number | null;
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  maxPositionEmbeddings: number;
}

export interface UnetOptions {
  /** Latent side length the model is meant for (config.json); the graph itself takes any height and width. */
  sampleSize: number;
  blockOutChannels: number[];
  layersPerBlock: number;
  /** Attention heads (what SD 1.5's config confusingly calls attention_head_dim). */
  attentionHeads: number;
  /** Per level, whether it has transformer blocks (the mid block always has one). */
  attentionLevels: boolean[];
  normGroups: number;
  /** Text width fed to cross-attention; null: the text encoder's hidden size. */
  crossAttentionDim: number | null;
}

export interface VaeDecoderOptions {
  /** Widths after conv_in and after each of the three x2 upsampling stages. */
  blockOutChannels: [number, number, number, number];
  normGroups: number;
}

export interface TinySdOptions {
  preset: PresetName;
  seed: number;
  float16: boolean;
  inputIdsDtype: InputIdsDtype;
  timestepDtype: TimestepDtype;
  timestepShape: TimestepShape;
  predictionType: PredictionType;
  schedulerClass: string;
  externalData: ExternalDataMode;
  /** Which ONNX models to write; the JSON and tokenizer files are always written. */
  components: ComponentName[];
  /** Also write safety_checker/ and feature_extractor/ (a stand-in checker, see safety-checker.ts). */
  safetyChecker: boolean;
  /** The stand-in checker flags an image whose mean CLIP-normalised pixel exceeds this (white ≈ 2, black ≈ -1.7). */
  safetyThreshold: number;
  tokenizer: TokenizerOptions;
  textEncoder: TextEncoderOptions;
  unet: UnetOptions;
  vaeDecoder: VaeDecoderOptions;
}

type Nested = 'tokenizer' | 'textEncoder' | 'unet' | 'vaeDecoder';

/** What callers pass: any subset, nested sections merged key by key over the preset. */
export type BuildModelOptions = Partial<Omit<TinySdOptions, Nested>> & {
  [K in Nested]?: Partial<TinySdOptions[K]>;
};

const COMMON = {
  seed: 0,
  float16: false,
  inputIdsDtype: 'int32',
  timestepDtype: 'float32',
  timestepShape: '1',
  predictionType: 'epsilon',
  schedulerClass: 'PNDMScheduler',
  externalData: 'auto',
  components: [...COMPONENT_NAMES],
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
  components: [...COMPONENT_NAMES],
  tokenizer: { ...COMMON.tokenizer },
  textEncoder: { vocabSize: null, hiddenSize: 64, intermediateSize: 256, layers: 1, heads: 2, maxPositionEmbeddings: 77 },
  unet: {
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
  components: [...COMPONENT_NAMES],
  tokenizer: { ...COMMON.tokenizer },
  textEncoder: { vocabSize: 49408, hiddenSize: 768, intermediateSize: 3072, layers: 12, heads: 12, maxPositionEmbeddings: 77 },
  unet: {
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

export const PRESETS: Readonly<Record<PresetName, TinySdOptions>> = { tiny: TINY_PRESET, sd15: SD15_PRESET };

/** A bad option value; its message is one line fit to show a user as is. */
export class BuildOptionsError extends Error {
  override readonly name = 'BuildOptionsError';
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new BuildOptionsError(message);
}

function oneOf<T extends string>(value: T, allowed: readonly T[], what: string): void {
  check(allowed.includes(value), `${what} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`);
}

function positiveInt(value: number, what: string): void {
  check(Number.isInteger(value) && value > 0, `${what} must be a positive integer; got ${JSON.stringify(value)}`);
}

/** `{ seed: undefined }` means "not given" (as from an optional CLI flag), not "no seed". */
function defined<T extends object>(value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Preset + overrides -> complete, validated options (deep-copied: callers may mutate the result). */
export function resolveOptions(input: BuildModelOptions = {}): TinySdOptions {
  const presetName = input.preset ?? 'tiny';
  oneOf(presetName, PRESET_NAMES, 'preset');
  const base = PRESETS[presetName];
  const o: TinySdOptions = {
    ...base,
    ...defined(input),
    preset: presetName,
    components: [...(input.components ?? base.components)],
    tokenizer: { ...base.tokenizer, ...defined(input.tokenizer) },
    textEncoder: { ...base.textEncoder, ...defined(input.textEncoder) },
    unet: {
      ...base.unet,
      ...defined(input.unet),
      blockOutChannels: [...(input.unet?.blockOutChannels ?? base.unet.blockOutChannels)],
      attentionLevels: [...(input.unet?.attentionLevels ?? base.unet.attentionLevels)],
    },
    vaeDecoder: {
      ...base.vaeDecoder,
      ...defined(input.vaeDecoder),
      blockOutChannels: [...(input.vaeDecoder?.blockOutChannels ?? base.vaeDecoder.blockOutChannels)] as [number, number, number, number],
    },
  };

  check(Number.isInteger(o.seed) && o.seed >= 0 && o.seed <= 0xffffffff, `seed must be an integer from 0 to 4294967295; got ${o.seed}`);
  check(typeof o.float16 === 'boolean', 'float16 must be true or false');
  check(typeof o.safetyChecker === 'boolean', 'safetyChecker must be true or false');
  check(Number.isFinite(o.safetyThreshold), `safety threshold must be a number; got ${JSON.stringify(o.safetyThreshold)}`);
  oneOf(o.inputIdsDtype, INPUT_IDS_DTYPES, 'input_ids dtype');
  oneOf(o.timestepDtype, TIMESTEP_DTYPES, 'timestep dtype');
  oneOf(o.timestepShape, TIMESTEP_SHAPES, 'timestep shape');
  oneOf(o.predictionType, PREDICTION_TYPES, 'prediction type');
  oneOf(o.externalData, EXTERNAL_DATA_MODES, 'external data mode');
  check(/^[A-Za-z_][A-Za-z0-9_]*$/.test(o.schedulerClass), `scheduler class must be a class name like PNDMScheduler; got ${JSON.stringify(o.schedulerClass)}`);
  check(o.components.length > 0, `components must name at least one of ${COMPONENT_NAMES.join(', ')}`);
  for (const c of o.components) oneOf(c, COMPONENT_NAMES, 'component');
  o.components = COMPONENT_NAMES.filter((c) => o.components.includes(c));

  positiveInt(o.tokenizer.merges, 'tokenizer merges');

  const te = o.textEncoder;
  for (const key of ['hiddenSize', 'intermediateSize', 'layers', 'heads', 'maxPositionEmbeddings'] as const) {
    positiveInt(te[key], `text encoder ${key}`);
  }
  if (te.vocabSize !== null) positiveInt(te.vocabSize, 'text encoder vocabSize');
  check(te.hiddenSize % te.heads === 0, `text encoder hiddenSize ${te.hiddenSize} must be divisible by its ${te.heads} heads`);

  const u = o.unet;
  positiveInt(u.sampleSize, 'unet sampleSize');
  positiveInt(u.layersPerBlock, 'unet layersPerBlock');
  positiveInt(u.attentionHeads, 'unet attentionHeads');
  positiveInt(u.normGroups, 'unet normGroups');
  check(u.blockOutChannels.length >= 2, 'unet blockOutChannels needs at least two levels (a down level and the level below it)');
  check(
    u.attentionLevels.length === u.blockOutChannels.length,
    `unet attentionLevels has ${u.attentionLevels.length} entries but blockOutChannels has ${u.blockOutChannels.length}`,
  );
  for (const c of u.blockOutChannels) {
    positiveInt(c, 'unet blockOutChannels entry');
    check(c % u.normGroups === 0, `unet channel count ${c} must be divisible by normGroups ${u.normGroups}`);
    check(c % u.attentionHeads === 0, `unet channel count ${c} must be divisible by attentionHeads ${u.attentionHeads}`);
  }
  check(u.blockOutChannels[0]! % 2 === 0, 'unet blockOutChannels[0] must be even (it is the sinusoidal timestep width)');
  if (u.crossAttentionDim !== null) {
    positiveInt(u.crossAttentionDim, 'unet crossAttentionDim');
    check(
      u.crossAttentionDim === te.hiddenSize || !o.components.includes('text_encoder'),
      `unet crossAttentionDim ${u.crossAttentionDim} must equal the text encoder hiddenSize ${te.hiddenSize}`,
    );
  }

  const v = o.vaeDecoder;
  positiveInt(v.normGroups, 'vae decoder normGroups');
  check(v.blockOutChannels.length === 4, 'vae decoder blockOutChannels must have 4 entries');
  for (const c of v.blockOutChannels) {
    positiveInt(c, 'vae decoder blockOutChannels entry');
    check(c % v.normGroups === 0, `vae decoder channel count ${c} must be divisible by normGroups ${v.normGroups}`);
  }
  return o;
}

export function crossAttentionDim(o: TinySdOptions): number {
  return o.unet.crossAttentionDim ?? o.textEncoder.hiddenSize;
}
