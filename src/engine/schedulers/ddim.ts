/**
 * diffusers' `DDIMScheduler` (Song et al. 2020) with eta = 0, the StableDiffusionPipeline default:
 * a deterministic step that needs no noise. Float32 rounding follows the torch tensor ops.
 */
import type { TorchGenerator } from '../random/torch-generator.ts';
import type { BaseSchedulerConfig } from './config.ts';
import { resolveConfig } from './config.ts';
import { spacedTimesteps } from './noise-schedule.ts';
import type { RawSchedulerConfig, Scheduler, SchedulerStepOutput } from './scheduler.ts';
import {
  alphaAt,
  rejectOption,
  requireOneOf,
  requireSameLength,
  requireTimestepsInRange,
  schedulerAlphasCumprod,
  validateBaseConfig,
  validateStepCount,
} from './scheduler-support.ts';

const f = Math.fround;

export interface DDIMConfig extends BaseSchedulerConfig {
  clip_sample: boolean;
  set_alpha_to_one: boolean;
  thresholding: boolean;
  dynamic_thresholding_ratio: number;
  clip_sample_range: number;
  sample_max_value: number;
  rescale_betas_zero_snr: boolean;
}

/** `DDIMScheduler.__init__` defaults (diffusers 0.32). */
export const DDIM_DEFAULTS: Readonly<DDIMConfig> = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  clip_sample: true,
  set_alpha_to_one: true,
  steps_offset: 0,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  clip_sample_range: 1.0,
  sample_max_value: 1.0,
  timestep_spacing: 'leading',
  rescale_betas_zero_snr: false,
};

export class DDIMScheduler implements Scheduler {
  readonly name = 'ddim';
  readonly initNoiseSigma = 1;
  readonly config: Readonly<DDIMConfig>;
  /** float32 ᾱ_t per training timestep. */
  readonly alphasCumprod: Float64Array;
  /** ᾱ used after the last step: 1, or ᾱ_0 when `set_alpha_to_one` is false (as in SD 1.x). */
  private readonly finalAlphaCumprod: number;
  private numInferenceSteps = 0;
  private schedule: number[] = [];

  constructor(raw: RawSchedulerConfig) {
    const config = resolveConfig(raw, { ...DDIM_DEFAULTS });
    validateBaseConfig('DDIMScheduler', config);
    requireOneOf('DDIMScheduler', 'prediction_type', config.prediction_type, ['epsilon', 'sample', 'v_prediction']);
    if (config.thresholding) rejectOption('DDIMScheduler', 'thresholding', true, '(dynamic thresholding) is not implemented');
    this.config = config;
    this.alphasCumprod = schedulerAlphasCumprod(config);
    this.finalAlphaCumprod = config.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
  }

  get timesteps(): readonly number[] {
    return this.schedule;
  }

  setTimesteps(numInferenceSteps: number): void {
    validateStepCount(numInferenceSteps);
    const timesteps = spacedTimesteps(this.config, numInferenceSteps);
    requireTimestepsInRange('DDIMScheduler', timesteps, this.config.num_train_timesteps, numInferenceSteps, this.config.timestep_spacing);
    this.numInferenceSteps = numInferenceSteps;
    this.schedule = timesteps;
  }

  scaleModelInput(sample: Float32Array, _timestep: number): Float32Array {
    return sample;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _generator: TorchGenerator): SchedulerStepOutput {
    if (this.numInferenceSteps === 0) throw new Error('DDIMScheduler: call setTimesteps before step');
    requireSameLength(modelOutput, sample);
    const { num_train_timesteps: trainSteps, prediction_type: predictionType } = this.config;
    // diffusers derives the previous timestep from the stride, not from the schedule, so a
    // `linspace` schedule with uneven gaps still steps by floor(T / steps).
    const prevTimestep = timestep - Math.floor(trainSteps / this.numInferenceSteps);
    const alphaProd = alphaAt(this.alphasCumprod, timestep);
    const alphaProdPrev = prevTimestep >= 0 ? this.alphasCumprod[prevTimestep]! : this.finalAlphaCumprod;
    const betaProd = f(1 - alphaProd);
    const sqrtAlpha = f(Math.sqrt(alphaProd));
    const sqrtBeta = f(Math.sqrt(betaProd));
    const sqrtAlphaPrev = f(Math.sqrt(alphaProdPrev));
    // eta = 0 makes std_dev_t zero, so the direction term is sqrt(1 - ᾱ_prev) * ε.
    const direction = f(Math.sqrt(f(1 - alphaProdPrev)));
    const clip = this.config.clip_sample;
    const range = f(this.config.clip_sample_range);

    const n = sample.length;
    const prevSample = new Float32Array(n);
    const predOriginalSample = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const x = sample[i]!;
      const m = modelOutput[i]!;
      let x0: number;
      let eps: number;
      if (predictionType === 'epsilon') {
        x0 = f(f(x - f(sqrtBeta * m)) / sqrtAlpha);
        eps = m;
      } else if (predictionType === 'v_prediction') {
        x0 = f(f(sqrtAlpha * x) - f(sqrtBeta * m));
        eps = f(f(sqrtAlpha * m) + f(sqrtBeta * x));
      } else {
        x0 = m;
        eps = f(f(x - f(sqrtAlpha * m)) / sqrtBeta);
      }
      // Clipping x0 does not feed back into ε (use_clipped_model_output is false in the pipeline).
      if (clip) x0 = Math.min(Math.max(x0, -range), range);
      predOriginalSample[i] = x0;
      prevSample[i] = f(sqrtAlphaPrev * x0) + f(direction * eps);
    }
    return { prevSample, predOriginalSample };
  }
}

export const createDDIMScheduler = (raw: RawSchedulerConfig): Scheduler => new DDIMScheduler(raw);
