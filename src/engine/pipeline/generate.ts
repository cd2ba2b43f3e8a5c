import * as ort from 'onnxruntime-node';
import { TorchGenerator } from '../random/torch-generator.ts';
import { createScheduler } from '../schedulers/registry.ts';
import type { Scheduler } from '../schedulers/scheduler.ts';
import { EngineError, type GenerationProgress, type ResolvedRequest, type RgbImage } from '../types.ts';
import type { LoadedModel } from './loaded-model.ts';
import { decodedToRgb, latentPreview } from './preview.ts';
import { floatTensor, readFloats, timestepTensor } from './tensors.ts';

export interface GenerationHooks {
  /** Checked between steps; true stops the run with a `cancelled` EngineError. */
  isCancelled(): boolean;
  onProgress?(progress: GenerationProgress): void;
  /** Compute a preview every N steps (0 = never). */
  previewEvery: number;
  /** Awaited between steps, e.g. to let an in-thread caller's event loop breathe. */
  betweenSteps?(): Promise<void>;
}

export interface GenerationOutput {
  images: RgbImage[];
  timings: { encodeMs: number; denoiseMs: number; decodeMs: number; perStepMs: number };
}

function cancelledError(): EngineError {
  return new EngineError('cancelled', 'generation cancelled');
}

async function run(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, part: string): Promise<ort.InferenceSession.OnnxValueMapType> {
  try {
    return await session.run(feeds);
  } catch (error) {
    const first = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new EngineError('engine-failed', `${part} failed while running: ${first}`, { cause: error });
  }
}

async function encodePrompt(model: LoadedModel, text: string): Promise<Float32Array> {
  const ids = model.tokenizer.encode(text);
  const { session, inputName, idsType, outputName } = model.textEncoder;
  const input =
    idsType === 'int64'
      ? new ort.Tensor('int64', BigInt64Array.from(ids, (id) => BigInt(id)), [1, ids.length])
      : new ort.Tensor('int32', Int32Array.from(ids), [1, ids.length]);
  const output = await run(session, { [inputName]: input }, 'text_encoder');
  return readFloats(output[outputName], 'text_encoder');
}

/** Repeats one prompt's embedding `times` along the batch axis (diffusers' np.repeat(axis=0)). */
function repeatRows(row: Float32Array, times: number): Float32Array {
  const out = new Float32Array(row.length * times);
  for (let i = 0; i < times; i++) out.set(row, i * row.length);
  return out;
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
 * diffusers' StableDiffusionPipeline on ONNX sessions: CLIP embeddings (negative prompt as the
 * unconditional side), seeded torch-compatible latents, one batched UNet run per step with
 * classifier-free guidance when guidance > 1, the scheduler step, then a VAE decode per image.
 */
export async function generateImages(model: LoadedModel, request: ResolvedRequest, hooks: GenerationHooks): Promise<GenerationOutput> {
  const started = performance.now();
  const { count, width, height, guidance } = request;
  const latentWidth = width / 8;
  const latentHeight = height / 8;
  const imageLatentSize = 4 * latentWidth * latentHeight;
  const useGuidance = guidance > 1;

  const tokensPerPrompt = model.tokenizer.maxLength;
  const positive = await encodePrompt(model, request.prompt);
  const hiddenWidth = positive.length / tokensPerPrompt;
  let context: Float32Array;
  if (useGuidance) {
    const negative = await encodePrompt(model, request.negativePrompt);
    context = new Float32Array(positive.length * count * 2);
    context.set(repeatRows(negative, count), 0);
    context.set(repeatRows(positive, count), positive.length * count);
  } else {
    context = repeatRows(positive, count);
  }
  const unetBatch = useGuidance ? count * 2 : count;
  const contextTensor = floatTensor(model.unet.contextType, context, [unetBatch, tokensPerPrompt, hiddenWidth]);
  const encodeMs = performance.now() - started;
  if (hooks.isCancelled()) throw cancelledError();

  const scheduler = prepareScheduler(model, request);
  const generator = new TorchGenerator(request.seed);
  const noise = generator.randn(count * imageLatentSize);
  let latents: Float32Array = new Float32Array(noise.length);
  for (let i = 0; i < noise.length; i++) latents[i] = noise[i]! * scheduler.initNoiseSigma;

  const timesteps = scheduler.timesteps;
  const denoiseStarted = performance.now();
  const modelInput = new Float32Array(unetBatch * imageLatentSize);
  const guided = new Float32Array(latents.length);
  for (let index = 0; index < timesteps.length; index++) {
    const t = timesteps[index]!;
    const scaled = scheduler.scaleModelInput(latents, t);
    modelInput.set(scaled, 0);
    if (useGuidance) modelInput.set(scaled, scaled.length);
    const output = await run(
      model.unet.session,
      {
        [model.unet.sampleName]: floatTensor(model.unet.sampleType, modelInput, [unetBatch, 4, latentHeight, latentWidth]),
        [model.unet.timestepName]: timestepTensor(model.unet.timestepType, model.unet.timestepLayout, t, unetBatch),
        [model.unet.contextName]: contextTensor,
      },
      'unet',
    );
    const prediction = readFloats(output[model.unet.outputName], 'unet');
    let noisePrediction: Float32Array;
    if (useGuidance) {
      const half = latents.length;
      for (let i = 0; i < half; i++) {
        const unconditional = prediction[i]!;
        guided[i] = unconditional + guidance * (prediction[half + i]! - unconditional);
      }
      noisePrediction = guided;
    } else {
      noisePrediction = prediction;
    }
    const step = scheduler.step(noisePrediction, t, latents, generator);
    latents = step.prevSample;

    const progress: GenerationProgress = {
      step: index + 1,
      totalSteps: timesteps.length,
      elapsedMs: performance.now() - started,
    };
    const wantPreview = hooks.previewEvery > 0 && ((index + 1) % hooks.previewEvery === 0 || index + 1 === timesteps.length);
    if (wantPreview) progress.preview = latentPreview(step.predOriginalSample, latentWidth, latentHeight);
    hooks.onProgress?.(progress);
    if (hooks.betweenSteps) await hooks.betweenSteps();
    if (hooks.isCancelled()) throw cancelledError();
  }
  const denoiseMs = performance.now() - denoiseStarted;

  const decodeStarted = performance.now();
  const images: RgbImage[] = [];
  const inverseScale = 1 / model.folder.scalingFactor;
  for (let i = 0; i < count; i++) {
    const slice = latents.subarray(i * imageLatentSize, (i + 1) * imageLatentSize);
    const scaled = new Float32Array(slice.length);
    for (let j = 0; j < slice.length; j++) scaled[j] = inverseScale * slice[j]!;
    const output = await run(model.vae.session, { [model.vae.inputName]: floatTensor(model.vae.inputType, scaled, [1, 4, latentHeight, latentWidth]) }, 'vae_decoder');
    const pixels = readFloats(output[model.vae.outputName], 'vae_decoder');
    if (pixels.length !== 3 * width * height) {
      throw new EngineError('model-invalid', `${model.folder.vaeDecoderPath}: decoded ${pixels.length} values, expected a 3×${height}×${width} image (the decoder must upsample ×8)`);
    }
    images.push(decodedToRgb(pixels, width, height));
    if (hooks.isCancelled()) throw cancelledError();
  }
  const decodeMs = performance.now() - decodeStarted;
  return { images, timings: { encodeMs, denoiseMs, decodeMs, perStepMs: denoiseMs / timesteps.length } };
}
