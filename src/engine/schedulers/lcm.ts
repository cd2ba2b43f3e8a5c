/**
 * diffusers' `LCMScheduler` (Luo et al. 2023, latent consistency models): each step maps x_t to a
 * denoised estimate through the consistency-model boundary condition, then re-noises it to the next
 * timestep with fresh generator noise (multistep consistency sampling, Algorithm 3).
 */
import type { TorchGenerator } from '../random/torch-generator.ts';
import type { BaseSchedulerConfig } from './config.ts';
import { TRAINING_SCHEDULE_DEFAULTS } from './config.ts';
import { schedulerAlphasCumprod } from './noise-schedule.ts';
import type { RawSchedulerConfig, Scheduler, SchedulerStepOutput } from './scheduler.ts';
import {
  alphaProducts,
  alphaSigmaOf,
  clampInPlace,
  modelOutputToX0,
  readSchedulerConfig,
  UnscaledInputScheduler,
  validateStepCount,
} from './scheduler-support.ts';
import { indexForTimestep } from './sigma-math.ts';
import { requireScheduleIndex } from './sigmas.ts';

const f = Math.fround;
/** sigma_data of the boundary-condition scalings; diffusers hard-codes 0.5. */
const SIGMA_DATA_SQ = 0.25;

export interface LCMConfig extends BaseSchedulerConfig {
  original_inference_steps: number;
  clip_sample: boolean;
  clip_sample_range: number;
  set_alpha_to_one: boolean;
  thresholding: boolean;
  dynamic_thresholding_ratio: number;
  sample_max_value: number;
  timestep_scaling: number;
  rescale_betas_zero_snr: boolean;
}

/** `LCMScheduler.__init__` defaults (diffusers 0.32). */
export const LCM_DEFAULTS: Readonly<LCMConfig> = {
  ...TRAINING_SCHEDULE_DEFAULTS,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  original_inference_steps: 50,
  clip_sample: false,
  clip_sample_range: 1.0,
  set_alpha_to_one: true,
  steps_offset: 0,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  sample_max_value: 1.0,
  timestep_spacing: 'leading',
  timestep_scaling: 10.0,
  rescale_betas_zero_snr: false,
};

export class LCMScheduler extends UnscaledInputScheduler<LCMConfig> implements Scheduler {
  readonly name = 'lcm';
  private readonly finalAlphaCumprod: number;
  private stepIndex: number | null = null;

  constructor(raw: RawSchedulerConfig) {
    // LCM ignores timestep_spacing and steps_offset, but they are still its config keys.
    const config = readSchedulerConfig('LCMScheduler', raw, LCM_DEFAULTS, { predictionTypes: ['epsilon', 'sample', 'v_prediction'] });
    const original = config.original_inference_steps;
    if (!Number.isInteger(original) || original < 1 || original > config.num_train_timesteps) {
      throw new Error(
        `scheduler_config.json: original_inference_steps must be an integer from 1 to num_train_timesteps (${config.num_train_timesteps}), got ${original}`,
      );
    }
    super('LCMScheduler', config, schedulerAlphasCumprod(config));
    this.finalAlphaCumprod = config.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
  }

  setTimesteps(numInferenceSteps: number): void {
    validateStepCount(numInferenceSteps);
    const original = this.config.original_inference_steps;
    if (numInferenceSteps > original) {
      // The inference schedule is a subset of the distillation schedule, so diffusers refuses more steps.
      throw new RangeError(
        `LCMScheduler: steps (${numInferenceSteps}) cannot exceed original_inference_steps (${original}) of the model's scheduler config`,
      );
    }
    // The distillation schedule: every k-th training timestep, k = T / original steps, ending at T - 1.
    const k = Math.floor(this.config.num_train_timesteps / original);
    const origin: number[] = [];
    for (let i = original; i >= 1; i--) origin.push(i * k - 1);
    // np.floor(np.linspace(0, len, num, endpoint=False)) picks evenly spaced indices into it.
    const step = origin.length / numInferenceSteps;
    const timesteps: number[] = [];
    for (let i = 0; i < numInferenceSteps; i++) timesteps.push(origin[Math.floor(i * step)]!);
    this.schedule = timesteps;
    this.stepIndex = null;
  }

  override setBeginIndex(index: number): void {
    requireScheduleIndex('LCMScheduler', this.schedule, index);
    this.stepIndex = index;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, generator: TorchGenerator): SchedulerStepOutput {
    this.checkStep(modelOutput, sample);
    this.stepIndex ??= indexForTimestep(this.schedule, timestep);
    const prevIndex = this.stepIndex + 1;
    const prevTimestep = prevIndex < this.schedule.length ? this.schedule[prevIndex]! : timestep;

    const { alphaProd, alphaProdPrev } = alphaProducts(this.alphasCumprod, timestep, prevTimestep, this.finalAlphaCumprod);

    // Boundary condition c_skip(0) = 1, c_out(0) = 0; timestep_scaling sharpens it toward a step.
    const scaled = f(f(timestep) * f(this.config.timestep_scaling));
    const scaledSq = f(scaled * scaled);
    const cSkip = f(SIGMA_DATA_SQ / f(scaledSq + SIGMA_DATA_SQ));
    const cOut = f(scaled / f(Math.sqrt(f(scaledSq + SIGMA_DATA_SQ))));

    const x0 = modelOutputToX0(this.config.prediction_type, modelOutput, sample, alphaSigmaOf(alphaProd));
    if (this.config.clip_sample) clampInPlace(x0, this.config.clip_sample_range);
    const n = sample.length;
    const denoised = new Float32Array(n);
    for (let i = 0; i < n; i++) denoised[i] = f(cOut * x0[i]!) + f(cSkip * sample[i]!);

    let prevSample: Float32Array;
    if (this.stepIndex !== this.schedule.length - 1) {
      const noise = generator.randn(n);
      const sqrtAlphaPrev = f(Math.sqrt(alphaProdPrev));
      const sqrtBetaPrev = f(Math.sqrt(f(1 - alphaProdPrev)));
      prevSample = new Float32Array(n);
      for (let i = 0; i < n; i++) prevSample[i] = f(sqrtAlphaPrev * denoised[i]!) + f(sqrtBetaPrev * noise[i]!);
    } else {
      prevSample = denoised.slice();
    }
    this.stepIndex++;
    // The denoised estimate is what LCM pipelines decode, so it is also the best preview.
    return { prevSample, predOriginalSample: denoised };
  }
}

export const createLCMScheduler = (raw: RawSchedulerConfig): Scheduler => new LCMScheduler(raw);
