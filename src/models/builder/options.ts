import { PRESETS } from './presets.ts';

export const PRESET_NAMES = ['tiny', 'sd15', 'tiny-sdxl', 'sdxl'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** Which pipeline the folder is for: SD 1.x (one text encoder) or SDXL (two, plus added conditions). */
export const BUILD_FAMILIES = ['sd', 'sdxl'] as const;
export type BuildFamily = (typeof BUILD_FAMILIES)[number];

export const TEXT_ACTIVATIONS = ['quick_gelu', 'gelu'] as const;
export type TextActivation = (typeof TEXT_ACTIVATIONS)[number];

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

export const COMPONENT_NAMES = ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', 'vae_encoder'] as const;
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
  /** CLIP ViT-L uses quick_gelu; OpenCLIP bigG (SDXL's text_encoder_2) exact gelu. */
  hiddenAct: TextActivation;
  /** CLIPTextModelWithProjection's `text_embeds` width; null: no projection (CLIPTextModel). */
  projectionDim: number | null;
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
  /** Text width fed to cross-attention; null: the text encoder's hidden size (both encoders' for SDXL). */
  crossAttentionDim: number | null;
  /** BasicTransformerBlocks per attention level (SDXL: [1, 2, 10]); the mid block takes the last. */
  transformerLayers: number[];
  /** Width per attention head, heads = channels / headDim at each level (SDXL: 64); null: `attentionHeads` everywhere. */
  attentionHeadDim: number | null;
  /** SDXL's "text_time" added conditions (`text_embeds`, `time_ids` inputs): each size embedded this wide. */
  addedTimeEmbedDim: number | null;
  /** LCM-distilled UNets' `timestep_cond` input (guidance embedding) width; null: none. */
  timeCondProjDim: number | null;
}

export interface VaeDecoderOptions {
  /** Widths after conv_in and after each of the three x2 upsampling stages. */
  blockOutChannels: [number, number, number, number];
  normGroups: number;
}

export interface TinySdOptions {
  preset: PresetName;
  family: BuildFamily;
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
  /** SDXL's second text encoder (text_encoder_2); unused for the sd family. */
  textEncoder2: TextEncoderOptions;
  unet: UnetOptions;
  vaeDecoder: VaeDecoderOptions;
}

type Nested = 'tokenizer' | 'textEncoder' | 'textEncoder2' | 'unet' | 'vaeDecoder';

/** What callers pass: any subset, nested sections merged key by key over the preset. */
export type BuildModelOptions = Partial<Omit<TinySdOptions, Nested>> & {
  [K in Nested]?: Partial<TinySdOptions[K]>;
};

export { PRESETS, SD15_PRESET, SDXL_PRESET, TINY_PRESET, TINY_SDXL_PRESET } from './presets.ts';

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

/** One block per level when the caller changes the level count of a preset that has one everywhere. */
function defaultTransformerLayers(base: UnetOptions, blockOutChannels: readonly number[] | undefined): number[] {
  if (blockOutChannels && base.transformerLayers.every((n) => n === 1)) return blockOutChannels.map(() => 1);
  return base.transformerLayers;
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
    textEncoder2: { ...base.textEncoder2, ...defined(input.textEncoder2) },
    unet: {
      ...base.unet,
      ...defined(input.unet),
      blockOutChannels: [...(input.unet?.blockOutChannels ?? base.unet.blockOutChannels)],
      attentionLevels: [...(input.unet?.attentionLevels ?? base.unet.attentionLevels)],
      transformerLayers: [...(input.unet?.transformerLayers ?? defaultTransformerLayers(base.unet, input.unet?.blockOutChannels))],
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
  oneOf(o.family, BUILD_FAMILIES, 'family');
  check(o.components.length > 0, `components must name at least one of ${COMPONENT_NAMES.join(', ')}`);
  for (const c of o.components) oneOf(c, COMPONENT_NAMES, 'component');
  check(o.family === 'sdxl' || !o.components.includes('text_encoder_2'), 'text_encoder_2 is an SDXL part: use an sdxl preset (tiny-sdxl, sdxl)');
  o.components = COMPONENT_NAMES.filter((c) => o.components.includes(c));

  positiveInt(o.tokenizer.merges, 'tokenizer merges');

  const encoders: [string, TextEncoderOptions][] = [['text encoder', o.textEncoder]];
  if (o.family === 'sdxl') encoders.push(['text encoder 2', o.textEncoder2]);
  for (const [what, te] of encoders) {
    for (const key of ['hiddenSize', 'intermediateSize', 'layers', 'heads', 'maxPositionEmbeddings'] as const) positiveInt(te[key], `${what} ${key}`);
    if (te.vocabSize !== null) positiveInt(te.vocabSize, `${what} vocabSize`);
    if (te.projectionDim !== null) positiveInt(te.projectionDim, `${what} projectionDim`);
    oneOf(te.hiddenAct, TEXT_ACTIVATIONS, `${what} hiddenAct`);
    check(te.hiddenSize % te.heads === 0, `${what} hiddenSize ${te.hiddenSize} must be divisible by its ${te.heads} heads`);
  }

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
  check(
    u.transformerLayers.length === u.blockOutChannels.length,
    `unet transformerLayers has ${u.transformerLayers.length} entries but blockOutChannels has ${u.blockOutChannels.length}`,
  );
  for (const n of u.transformerLayers) positiveInt(n, 'unet transformerLayers entry');
  if (u.attentionHeadDim !== null) {
    positiveInt(u.attentionHeadDim, 'unet attentionHeadDim');
    for (const c of u.blockOutChannels) check(c % u.attentionHeadDim === 0, `unet channel count ${c} must be divisible by attentionHeadDim ${u.attentionHeadDim}`);
  }
  if (u.timeCondProjDim !== null) positiveInt(u.timeCondProjDim, 'unet timeCondProjDim');
  if (o.family === 'sdxl') {
    check(u.addedTimeEmbedDim !== null, 'an SDXL UNet needs addedTimeEmbedDim (the text_time conditions)');
    positiveInt(u.addedTimeEmbedDim, 'unet addedTimeEmbedDim');
    check(u.addedTimeEmbedDim % 2 === 0, 'unet addedTimeEmbedDim must be even (it is a sinusoidal width)');
    check(o.textEncoder2.projectionDim !== null, 'SDXL’s text encoder 2 needs a projectionDim (its text_embeds feed the UNet)');
  } else {
    check(u.addedTimeEmbedDim === null, 'addedTimeEmbedDim (SDXL’s text_time conditions) needs an sdxl preset');
  }
  if (u.crossAttentionDim !== null) {
    positiveInt(u.crossAttentionDim, 'unet crossAttentionDim');
    const textWidth = textWidthOf(o);
    check(
      u.crossAttentionDim === textWidth || !o.components.includes('text_encoder'),
      `unet crossAttentionDim ${u.crossAttentionDim} must equal the text width ${textWidth} (the text encoder${o.family === 'sdxl' ? 's’ hiddenSizes together' : ' hiddenSize'})`,
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

/** The width of the UNet's encoder_hidden_states as the text encoder(s) make it. */
function textWidthOf(o: TinySdOptions): number {
  return o.family === 'sdxl' ? o.textEncoder.hiddenSize + o.textEncoder2.hiddenSize : o.textEncoder.hiddenSize;
}

export function crossAttentionDim(o: TinySdOptions): number {
  return o.unet.crossAttentionDim ?? textWidthOf(o);
}
