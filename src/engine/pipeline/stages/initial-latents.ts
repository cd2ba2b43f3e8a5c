import type { TorchGenerator } from '../../random/torch-generator.ts';
import type { Scheduler } from '../../schedulers/scheduler.ts';
import { latentsPerImage, type LatentShape } from '../latent-shape.ts';

/** Where the denoising loop starts: the latents and the timesteps still to run over them. */
export interface LatentStart {
  latents: Float32Array;
  timesteps: readonly number[];
  /** Steps the user asked for that this start will run (all of them for text-to-image). */
  userSteps: number;
}

/**
 * Text-to-image's start, as diffusers' `prepare_latents`: `randn(shape, generator) * init_noise_sigma`
 * drawn from the seeded torch generator, over the scheduler's whole schedule.
 */
export function noiseStart(scheduler: Scheduler, generator: TorchGenerator, shape: LatentShape, userSteps: number): LatentStart {
  const noise = generator.randn(shape.count * latentsPerImage(shape));
  const sigma = scheduler.initNoiseSigma;
  const latents = new Float32Array(noise.length);
  for (let i = 0; i < noise.length; i++) latents[i] = noise[i]! * sigma;
  return { latents, timesteps: scheduler.timesteps, userSteps };
}
