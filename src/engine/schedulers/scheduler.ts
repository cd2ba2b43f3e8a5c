import type { TorchGenerator } from '../random/torch-generator.ts';

/** Names users pick schedulers by (CLI `--scheduler`, the bot's `scheduler` option). */
export const SCHEDULER_NAMES = [
  'ddim',
  'ddpm',
  'pndm',
  'lms',
  'euler',
  'euler-a',
  'heun',
  'dpm++2m',
  'dpm++2m-karras',
  'unipc',
  'lcm',
] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';

/**
 * A model's `scheduler/scheduler_config.json` as diffusers writes it (snake_case keys). Each
 * scheduler reads the keys its diffusers class accepts and falls back to that class's own
 * defaults for absent ones, which is what `SchedulerClass.from_config(config)` does.
 */
export type RawSchedulerConfig = Readonly<Record<string, unknown>>;

export interface SchedulerStepOutput {
  /** x_{t-1}: the latents to feed the next step. */
  prevSample: Float32Array;
  /**
   * The scheduler's current estimate of the clean latents (x_0), used for cheap previews.
   * Schedulers that do not compute it in diffusers derive it from the model output.
   */
  predOriginalSample: Float32Array;
}

/**
 * One diffusers scheduler. Instances are stateful (multistep history, step index) and belong to
 * one generation: call `setTimesteps` once, then `scaleModelInput` and `step` once for each entry
 * of `timesteps`, in order. Arrays are flat row-major latents of any batch size.
 */
export interface Scheduler {
  readonly name: SchedulerName;
  /** Timesteps to run the UNet at, after `setTimesteps`; may repeat (Heun, PNDM). */
  readonly timesteps: readonly number[];
  /** Standard deviation of the initial noise: the initial latents are `randn * initNoiseSigma`. */
  readonly initNoiseSigma: number;
  /**
   * diffusers' `scheduler.order`: UNet evaluations per interval of the schedule (2 for Heun, else 1).
   * img2img skips `t_start * order` entries of `timesteps`.
   */
  readonly order: number;
  setTimesteps(numInferenceSteps: number): void;
  /**
   * `set_begin_index`: the run starts at `timesteps[index]` instead of the first entry (img2img). Call it
   * after `setTimesteps`; schedulers that diffusers gives no begin index (DDIM, DDPM, PNDM) ignore it.
   */
  setBeginIndex(index: number): void;
  /**
   * `add_noise(original, noise, timestep)`: the latents noised to `timestep`, the first timestep of an
   * img2img run, as this scheduler's diffusers class does it (ᾱ-based or sigma-based).
   */
  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array;
  scaleModelInput(sample: Float32Array, timestep: number): Float32Array;
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, generator: TorchGenerator): SchedulerStepOutput;
}

export type SchedulerFactory = (config: RawSchedulerConfig) => Scheduler;

/**
 * diffusers' `scheduler.order`: UNet evaluations per user step. Heun's predictor–corrector makes
 * two; every other scheduler here makes one (PNDM's extra warm-up call is not a step of its own).
 */
export function schedulerOrder(name: SchedulerName): 1 | 2 {
  return name === 'heun' ? 2 : 1;
}
