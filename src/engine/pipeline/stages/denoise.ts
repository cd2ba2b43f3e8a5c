import type * as ort from 'onnxruntime-node';
import type { TorchGenerator } from '../../random/torch-generator.ts';
import type { Scheduler } from '../../schedulers/scheduler.ts';
import { EngineError, type GenerationProgress, type RgbImage } from '../../types.ts';
import type { UnetConditioning } from '../conditioning.ts';
import type { GenerationHooks } from '../hooks.ts';
import { latentsPerImage, type LatentShape } from '../latent-shape.ts';
import { assertFinite } from '../finite.ts';
import { floatTensor, timestepTensor } from '../tensors.ts';
import { runUnet, type UnetPart } from '../unet.ts';

export interface DenoiseInput {
  unet: UnetPart;
  scheduler: Scheduler;
  /** diffusers' `scheduler.order`, for counting user steps (see `stepCounter`). */
  schedulerOrder: number;
  generator: TorchGenerator;
  conditioning: UnetConditioning;
  shape: LatentShape;
  latents: Float32Array;
  timesteps: readonly number[];
  userSteps: number;
  hooks: GenerationHooks;
  /** A latent-resolution picture of predicted clean latents, for progress previews. */
  preview(latents: Float32Array, shape: LatentShape): RgbImage;
  startedAt: number;
}

export function cancelledError(): EngineError {
  return new EngineError('cancelled', 'generation cancelled');
}

/**
 * User steps completed after UNet call `callIndex` (0-based), as diffusers' progress bar counts
 * them: the calls before the last `userSteps × order` are warm-up (PNDM's extra one), then one
 * step every `order` calls (Heun's two), and the last call completes the run. So a 40-step PNDM
 * run (41 calls) reports 40/40.
 */
export function userStepsAfter(callIndex: number, calls: number, userSteps: number, order: number): number {
  if (callIndex >= calls - 1) return userSteps;
  const warmup = Math.max(calls - userSteps * order, 0);
  const counted = Math.floor((callIndex + 1) / order) - Math.floor(warmup / order);
  return Math.min(Math.max(counted, 0), userSteps);
}

/** The guided prediction: uncond + g · (text − uncond) over the [uncond; text] halves. */
function combineGuidance(prediction: Float32Array, half: number, guidance: number, out: Float32Array): Float32Array {
  for (let i = 0; i < half; i++) {
    const unconditional = prediction[i]!;
    out[i] = unconditional + guidance * (prediction[half + i]! - unconditional);
  }
  return out;
}

/** diffusers' denoising loop: scale, UNet (batched for guidance), guide, scheduler step; progress per user step. */
export async function denoise(input: DenoiseInput): Promise<Float32Array> {
  const { unet, scheduler, conditioning, shape, timesteps, hooks } = input;
  const rows = conditioning.rowsPerImage;
  const batch = shape.count * rows;
  const imageSize = latentsPerImage(shape);
  const modelInput = new Float32Array(batch * imageSize);
  const guided = new Float32Array(shape.count * imageSize);
  const stepsAfter = (index: number): number => userStepsAfter(index, timesteps.length, input.userSteps, input.schedulerOrder);
  let latents = input.latents;
  let reported = 0;
  for (let index = 0; index < timesteps.length; index++) {
    const t = timesteps[index]!;
    const scaled = scheduler.scaleModelInput(latents, t);
    for (let r = 0; r < rows; r++) modelInput.set(scaled, r * scaled.length);
    const feeds: Record<string, ort.Tensor> = {
      [unet.sample.name]: floatTensor(unet.sample.type, modelInput, [batch, shape.channels, shape.height, shape.width]),
      [unet.timestep.name]: timestepTensor(unet.timestep.type, unet.timestep.layout, t, batch),
      ...conditioning.feeds(t),
    };
    const prediction = await runUnet(unet, feeds, batch);
    assertFinite(prediction, 'unet', `at step ${Math.min(stepsAfter(index - 1) + 1, input.userSteps)} of ${input.userSteps}`, unet.output.type);
    const noisePrediction = rows === 2 ? combineGuidance(prediction, latents.length, conditioning.guidance, guided) : prediction;
    const step = scheduler.step(noisePrediction, t, latents, input.generator);
    latents = step.prevSample;

    const done = stepsAfter(index);
    if (done > reported) {
      reported = done;
      const progress: GenerationProgress = { step: done, totalSteps: input.userSteps, elapsedMs: performance.now() - input.startedAt };
      const wantPreview = hooks.previewEvery > 0 && (done % hooks.previewEvery === 0 || done === input.userSteps);
      if (wantPreview) progress.preview = input.preview(step.predOriginalSample, shape);
      hooks.onProgress?.(progress);
    }
    if (hooks.betweenSteps) await hooks.betweenSteps();
    if (hooks.isCancelled()) throw cancelledError();
  }
  return latents;
}
