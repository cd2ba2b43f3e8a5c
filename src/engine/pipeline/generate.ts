import { TorchGenerator } from '../random/torch-generator.ts';
import { createScheduler } from '../schedulers/registry.ts';
import { schedulerOrder, type Scheduler } from '../schedulers/scheduler.ts';
import { EngineError, type ResolvedRequest, type RgbImage } from '../types.ts';
import type { GenerationHooks } from './hooks.ts';
import type { LatentShape } from './latent-shape.ts';
import type { LoadedModel } from './loaded-model.ts';
import { cancelledError, denoise } from './stages/denoise.ts';
import { imageStart } from './stages/image-start.ts';
import { noiseStart } from './stages/initial-latents.ts';

export type { GenerationHooks } from './hooks.ts';

export interface GenerationOutput {
  images: RgbImage[];
  timings: { encodeMs: number; denoiseMs: number; decodeMs: number; perStepMs: number; initImageMs?: number; safetyCheckMs?: number };
  /** The safety checker's flag per image, when one ran. */
  nsfw?: boolean[];
  notes?: string[];
  /** Text past the text encoder's token limit, which the encoder never saw (absent when all fit). */
  dropped?: DroppedText;
}

export interface DroppedText {
  /** The token limit, begin and end tokens included (CLIP: 77). */
  maxTokens: number;
  prompt?: string;
  negativePrompt?: string;
}

/** What of the prompts a tokenizer cuts, as users should be told rather than have it happen silently. */
function droppedText(model: LoadedModel, request: ResolvedRequest): DroppedText | undefined {
  const tokenizer = model.pipeline.promptTokenizer;
  if (!tokenizer) return undefined;
  const prompt = tokenizer.overflow(request.prompt);
  const negativePrompt = request.negativePrompt ? tokenizer.overflow(request.negativePrompt) : '';
  if (!prompt && !negativePrompt) return undefined;
  return { maxTokens: tokenizer.maxLength, ...(prompt && { prompt }), ...(negativePrompt && { negativePrompt }) };
}

/** What a run takes besides the request: the prepared init image (img2img) and whether to run the safety checker. */
export interface GenerationExtras {
  /** Already at the request's width × height. */
  initImage?: RgbImage;
  /** Default true: run the folder's safety checker when it has one. */
  safetyCheck?: boolean;
}

/** Scheduler limits (LCM's step cap, configs we don't implement) are the request's problem, not an engine fault. */
function prepareScheduler(model: LoadedModel, request: ResolvedRequest): Scheduler {
  try {
    const scheduler = createScheduler(request.scheduler, model.folder.schedulerConfig);
    scheduler.setTimesteps(request.steps);
    return scheduler;
  } catch (error) {
    if (error instanceof EngineError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new EngineError('invalid-request', `scheduler ${request.scheduler} cannot run ${request.steps} steps on this model: ${message}`, { cause: error });
  }
}

/**
 * One diffusers pipeline call, whatever the family: encode the prompt into the UNet's
 * conditioning, draw the seeded start, run the denoising loop, decode. The family supplies the
 * stages that differ; nothing here branches on it.
 */
export async function generateImages(
  model: LoadedModel,
  request: ResolvedRequest,
  hooks: GenerationHooks,
  extras: GenerationExtras = {},
): Promise<GenerationOutput> {
  const started = performance.now();
  const { pipeline } = model;
  const scale = pipeline.decoder.scale;
  const shape: LatentShape = { count: request.count, channels: pipeline.latentChannels, height: request.height / scale, width: request.width / scale };

  const dropped = droppedText(model, request);
  const conditioning = await pipeline.encode(request);
  const encodeMs = performance.now() - started;
  if (hooks.isCancelled()) throw cancelledError();

  const scheduler = prepareScheduler(model, request);
  const generator = new TorchGenerator(request.seed);
  const initStarted = performance.now();
  const start = extras.initImage
    ? await imageStart(model, scheduler, generator, shape, request, extras.initImage)
    : { ...noiseStart(scheduler, generator, shape, request.steps), notes: [] };
  const initImageMs = extras.initImage ? performance.now() - initStarted : undefined;

  const denoiseStarted = performance.now();
  const latents = await denoise({
    unet: pipeline.unet,
    scheduler,
    schedulerOrder: schedulerOrder(request.scheduler),
    generator,
    conditioning,
    shape,
    latents: start.latents,
    timesteps: start.timesteps,
    userSteps: start.userSteps,
    hooks,
    preview: (x0, s) => pipeline.preview(x0, s),
    startedAt: started,
  });
  const denoiseMs = performance.now() - denoiseStarted;

  const decodeStarted = performance.now();
  const images = await pipeline.decoder.decode(latents, shape, hooks);
  const decodeMs = performance.now() - decodeStarted;

  const checker = extras.safetyCheck === false ? undefined : model.parts.safetyChecker;
  const safetyStarted = performance.now();
  const nsfw = checker ? await checker.check(images) : undefined;
  const safetyCheckMs = checker ? performance.now() - safetyStarted : undefined;
  return {
    images,
    timings: {
      encodeMs,
      denoiseMs,
      decodeMs,
      perStepMs: denoiseMs / start.userSteps,
      ...(initImageMs !== undefined && { initImageMs }),
      ...(safetyCheckMs !== undefined && { safetyCheckMs }),
    },
    nsfw,
    notes: start.notes,
    ...(dropped && { dropped }),
  };
}
