import type { SchedulerName } from './schedulers/scheduler.ts';

export type { SchedulerName } from './schedulers/scheduler.ts';

/** Where ONNX Runtime runs the model. `auto` picks CUDA when its provider binaries are installed, else CPU. */
export type ProviderChoice = 'auto' | 'cpu' | 'cuda' | 'webgpu';
export type ResolvedProvider = Exclude<ProviderChoice, 'auto'>;

/** Limits the engine enforces; callers (CLI, bot) validate against the same figures. */
export const LIMITS = {
  steps: { min: 1, max: 150 },
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
} as const;

/** One generation request. Absent fields take the defaults above or the model's own. */
export interface GenerateRequest {
  prompt: string;
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
  /** Which of the engine's models (folder name); default: the engine's default model. */
  model?: string;
}

/** The request with every default filled in: what was actually run, and what a rerun needs. */
export interface ResolvedRequest {
  prompt: string;
  negativePrompt: string;
  seed: number;
  steps: number;
  guidance: number;
  scheduler: SchedulerName;
  width: number;
  height: number;
  count: number;
}

/** Raw 8-bit RGB pixels, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface GenerationProgress {
  /** 1-based index of the UNet evaluation just finished. */
  step: number;
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
  /** Which of the engine's models to run (folder name); overrides `request.model`. */
  model?: string;
}

export interface GeneratedImage {
  /** PNG bytes with the generation parameters in a `parameters` text chunk (AUTOMATIC1111 format). */
  png: Buffer;
  rgb: RgbImage;
}

export interface GenerateResult {
  request: ResolvedRequest;
  images: GeneratedImage[];
  /** AUTOMATIC1111-style parameters text, as embedded in each PNG. */
  parameters: string;
  timings: { totalMs: number; encodeMs: number; denoiseMs: number; decodeMs: number; perStepMs: number };
}

export interface ModelInfo {
  /** Folder name, shown to users. */
  name: string;
  path: string;
  /** The size the model was trained at (pixels), from unet/config.json's sample_size × 8, else 512. */
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
