import type { ModelFamily } from './model/family.ts';
import type { SchedulerName } from './schedulers/scheduler.ts';

export type { ModelFamily } from './model/family.ts';

export type { SchedulerName } from './schedulers/scheduler.ts';

/** Where ONNX Runtime runs the model. `auto` picks CUDA when its provider binaries are installed, else CPU. */
export type ProviderChoice = 'auto' | 'cpu' | 'cuda' | 'webgpu';
export type ResolvedProvider = Exclude<ProviderChoice, 'auto'>;

/** Limits the engine enforces; callers (CLI, bot) validate against the same figures. */
export const LIMITS = {
  steps: { min: 1, max: 150 },
  /** Unconditional DDPM models are trained for, and by default run (DDPMPipeline), 1000 steps. */
  unconditionalSteps: { min: 1, max: 1000 },
  guidance: { min: 0, max: 30 },
  count: { min: 1, max: 4 },
  seed: { min: 0, max: 0xffffffff },
  /** Width and height: multiples of 8, as diffusers requires. */
  sizeMultiple: 8,
  size: { min: 8, max: 4096 },
} as const;

export const DEFAULTS = {
  steps: 25,
  guidance: 7.5,
  count: 1,
  /** img2img's share of the schedule that is run (diffusers' StableDiffusionImg2ImgPipeline default). */
  strength: 0.8,
} as const;

/** One generation request. Absent fields take the defaults above or the model's own. */
export interface GenerateRequest {
  /** What to draw; must be empty ("") for unconditional models, which draw without one. */
  prompt: string;
  /**
   * The unconditional side of guidance. Absent and "" differ: SDXL models with
   * `force_zeros_for_empty_prompt` use zero embeddings when it is absent, and encode "" when given.
   */
  negativePrompt?: string;
  /** 0 … 4294967295; random when omitted (the chosen seed is reported in the result). */
  seed?: number;
  steps?: number;
  guidance?: number;
  /** Default: the model's own scheduler class (from scheduler_config.json). */
  scheduler?: SchedulerName;
  /** Pixels; multiples of 8. Default: the model's native size. */
  width?: number;
  height?: number;
  /** Images per prompt, 1 … 4, drawn from one seeded generator as diffusers does. */
  count?: number;
  /**
   * img2img: the starting image, PNG, JPEG or WebP bytes. Without width and height the output takes
   * its size, rounded down to multiples of 8. Needs a model with `vae_encoder/`.
   */
  initImage?: Uint8Array;
  /** img2img: how much of the schedule to run over the init image, 0 < strength ≤ 1 (default 0.8). */
  strength?: number;
  /** Which of the engine's models (folder name); default: the engine's default model. */
  model?: string;
}

/** The request with every default filled in: what was actually run, and what a rerun needs. */
export interface ResolvedRequest {
  prompt: string;
  /** undefined when the caller gave none (see GenerateRequest.negativePrompt). */
  negativePrompt: string | undefined;
  seed: number;
  steps: number;
  guidance: number;
  scheduler: SchedulerName;
  width: number;
  height: number;
  count: number;
  /** Set for img2img runs only. */
  strength?: number;
}

/** Raw 8-bit RGB pixels, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface GenerationProgress {
  /**
   * User steps completed (1-based), counted as diffusers' progress bar counts them: a 40-step run
   * reports 40/40 whatever its UNet evaluations (PNDM makes 41, Heun 2 per step). Reported once per step.
   */
  step: number;
  /** The steps the request asked for. */
  totalSteps: number;
  elapsedMs: number;
  /** Cheap latent-space preview of the predicted image (first image of the batch), at latent resolution. */
  preview?: RgbImage;
}

export interface GenerateOptions {
  signal?: AbortSignal;
  onProgress?: (progress: GenerationProgress) => void;
  /** Compute a preview every N steps (0 = never). Default 1. */
  previewEvery?: number;
  /** Run the model's safety checker, when it has one (default true). Images are never altered either way. */
  safetyCheck?: boolean;
  /** Which of the engine's models to run (folder name); overrides `request.model`. */
  model?: string;
}

export interface GeneratedImage {
  /** PNG bytes with the generation parameters in a `parameters` text chunk (AUTOMATIC1111 format). */
  png: Buffer;
  rgb: RgbImage;
  /** The safety checker's verdict; undefined when no checker ran. The engine never alters a flagged image. */
  nsfw?: boolean;
}

export interface GenerateResult {
  request: ResolvedRequest;
  images: GeneratedImage[];
  /** AUTOMATIC1111-style parameters text, as embedded in each PNG. */
  parameters: string;
  timings: { totalMs: number; encodeMs: number; denoiseMs: number; decodeMs: number; perStepMs: number; initImageMs?: number; safetyCheckMs?: number };
  /** Caveats about this run, e.g. that an older VAE-encoder export makes img2img not seed-exact. */
  notes?: string[];
  /**
   * Prompt text past the text encoder's token limit (CLIP: 77 tokens, begin and end included), which
   * diffusers cuts off as the engine does; absent when everything fit. Words as the tokenizer decodes them (lower case).
   */
  dropped?: { maxTokens: number; prompt?: string; negativePrompt?: string };
}

/** What a model can do; the CLI and bot offer only these. */
export interface ModelCapabilities {
  /** Draws from a prompt (SD, SDXL). */
  textToImage: boolean;
  /** Starts from an init image (the folder has a VAE encoder). */
  img2img: boolean;
  /** The folder ships a safety checker; results carry its per-image flag. */
  safetyChecker: boolean;
  /** Draws without a prompt (DDPM/DDIM pipelines). */
  unconditional: boolean;
}

export interface ModelInfo {
  /** Folder name, shown to users. */
  name: string;
  path: string;
  /** Which diffusers pipeline the folder is (model_index.json's class and the parts present). */
  family: ModelFamily;
  capabilities: ModelCapabilities;
  /** The size the model was trained at (pixels), from unet/config.json's sample_size × 8 (else the family's usual size, with a warning). */
  nativeWidth: number;
  nativeHeight: number;
  defaultScheduler: SchedulerName;
  predictionType: 'epsilon' | 'v_prediction' | 'sample';
  /** dtype of the UNet's float inputs: float16 models are run in half precision. */
  precision: 'float32' | 'float16';
}

export interface EngineInfo {
  model: ModelInfo;
  provider: ResolvedProvider;
  /** Why that provider was chosen, e.g. "auto: CUDA provider not installed, using CPU". */
  providerReason: string;
}

/**
 * The diffusion engine. Sessions are created once (at `createEngine`) and reused; calls to
 * `generate` are served one at a time in arrival order. Errors are `EngineError`s with a
 * user-safe message.
 */
export interface Engine {
  readonly info: EngineInfo;
  generate(request: GenerateRequest, options?: GenerateOptions): Promise<GenerateResult>;
  close(): Promise<void>;
}

export type ErrorCode =
  | 'invalid-request'
  | 'model-invalid'
  | 'provider-unavailable'
  | 'cancelled'
  | 'engine-failed';

/** An error whose message is safe and useful to show a user (no stack trace, no internals). */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
