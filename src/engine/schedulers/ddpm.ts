/**
 * diffusers' `DDPMScheduler` (Ho et al. 2020): ancestral sampling of the posterior
 * q(x_{t-1} | x_t, x0), with fresh noise from the generator at every step whose timestep is > 0.
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
const MIN_VARIANCE = f(1e-20);

export type DDPMVarianceType = 'fixed_small' | 'fixed_small_log' | 'fixed_large' | 'fixed_large_log' | 'learned' | 'learned_range';

export interface DDPMConfig extends BaseSchedulerConfig {
  variance_type: DDPMVarianceType;
  clip_sample: boolean;
  thresholding: boolean;
  dynamic_thresholding_ratio: number;
  clip_sample_range: number;
  sample_max_value: number;
  rescale_betas_zero_snr: boolean;
}

/** `DDPMScheduler.__init__` defaults (diffusers 0.32). */
export const DDPM_DEFAULTS: Readonly<DDPMConfig> = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  variance_type: 'fixed_small',
  clip_sample: true,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  clip_sample_range: 1.0,
  sample_max_value: 1.0,
  timestep_spacing: 'leading',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
};

export class DDPMScheduler implements Scheduler {
  readonly name = 'ddpm';
  readonly initNoiseSigma = 1;
  readonly config: Readonly<DDPMConfig>;
  /** float32 ᾱ_t per training timestep. */
  readonly alphasCumprod: Float64Array;
  private numInferenceSteps = 0;
  private schedule: number[] = [];

  constructor(raw: RawSchedulerConfig) {
    const config = resolveConfig(raw, { ...DDPM_DEFAULTS });
    validateBaseConfig('DDPMScheduler', config);
    requireOneOf('DDPMScheduler', 'prediction_type', config.prediction_type, ['epsilon', 'sample', 'v_prediction']);
    requireOneOf('DDPMScheduler', 'variance_type', config.variance_type, [
      'fixed_small',
      'fixed_small_log',
      'fixed_large',
      'fixed_large_log',
      'learned',
      'learned_range',
    ]);
    if (config.variance_type === 'learned' || config.variance_type === 'learned_range') {
      // These need the UNet's extra variance channels, which an SD UNet does not produce.
      rejectOption('DDPMScheduler', 'variance_type', config.variance_type, 'needs a model that predicts its variance; not implemented');
    }
    if (config.variance_type === 'fixed_large_log') {
      // diffusers takes sqrt(log(beta)) of a negative log here and samples NaN.
      rejectOption('DDPMScheduler', 'variance_type', config.variance_type, 'produces NaN latents in diffusers; not supported');
    }
    if (config.thresholding) rejectOption('DDPMScheduler', 'thresholding', true, '(dynamic thresholding) is not implemented');
    this.config = config;
    this.alphasCumprod = schedulerAlphasCumprod(config);
  }

  get timesteps(): readonly number[] {
    return this.schedule;
  }

  setTimesteps(numInferenceSteps: number): void {
    validateStepCount(numInferenceSteps);
    const timesteps = spacedTimesteps(this.config, numInferenceSteps);
    requireTimestepsInRange('DDPMScheduler', timesteps, this.config.num_train_timesteps, numInferenceSteps, this.config.timestep_spacing);
    this.numInferenceSteps = numInferenceSteps;
    this.schedule = timesteps;
  }

  scaleModelInput(sample: Float32Array, _timestep: number): Float32Array {
    return sample;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, generator: TorchGenerator): SchedulerStepOutput {
    if (this.numInferenceSteps === 0) throw new Error('DDPMScheduler: call setTimesteps before step');
    requireSameLength(modelOutput, sample);
    const { num_train_timesteps: trainSteps, prediction_type: predictionType, variance_type: varianceType } = this.config;
    // `previous_timestep`: diffusers steps by the stride floor(T / steps) rather than by the schedule.
    const prevTimestep = timestep - Math.floor(trainSteps / this.numInferenceSteps);
    const alphaProd = alphaAt(this.alphasCumprod, timestep);
    const alphaProdPrev = prevTimestep >= 0 ? this.alphasCumprod[prevTimestep]! : 1;
    const betaProd = f(1 - alphaProd);
    const betaProdPrev = f(1 - alphaProdPrev);
    const currentAlpha = f(alphaProd / alphaProdPrev);
    const currentBeta = f(1 - currentAlpha);
    const sqrtAlpha = f(Math.sqrt(alphaProd));
    const sqrtBeta = f(Math.sqrt(betaProd));

    // Posterior mean coefficients, formula (7) of the DDPM paper.
    const x0Coeff = f(f(f(Math.sqrt(alphaProdPrev)) * currentBeta) / betaProd);
    const sampleCoeff = f(f(f(Math.sqrt(currentAlpha)) * betaProdPrev) / betaProd);
    const clip = this.config.clip_sample;
    const range = f(this.config.clip_sample_range);

    const n = sample.length;
    const prevSample = new Float32Array(n);
    const predOriginalSample = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const x = sample[i]!;
      const m = modelOutput[i]!;
      let x0: number;
      if (predictionType === 'epsilon') x0 = f(f(x - f(sqrtBeta * m)) / sqrtAlpha);
      else if (predictionType === 'v_prediction') x0 = f(f(sqrtAlpha * x) - f(sqrtBeta * m));
      else x0 = m;
      if (clip) x0 = Math.min(Math.max(x0, -range), range);
      predOriginalSample[i] = x0;
      prevSample[i] = f(x0Coeff * x0) + f(sampleCoeff * x);
    }

    // diffusers tests the timestep, not the step index: with steps_offset 1 the last timestep is 1,
    // so it still draws (and consumes) noise there, scaled by the 1e-20 variance floor.
    if (timestep > 0) {
      const noise = generator.randn(n);
      const std = this.noiseStd(alphaProd, alphaProdPrev, currentBeta, varianceType);
      for (let i = 0; i < n; i++) prevSample[i] = prevSample[i]! + f(std * noise[i]!);
    }
    return { prevSample, predOriginalSample };
  }

  /** Standard deviation of the added noise (`_get_variance`, then the square root `step` takes). */
  private noiseStd(alphaProd: number, alphaProdPrev: number, currentBeta: number, varianceType: DDPMVarianceType): number {
    if (varianceType === 'fixed_large') return f(Math.sqrt(currentBeta));
    // Posterior variance, formula (7): (1 - ᾱ_{t-1}) / (1 - ᾱ_t) * β_t, floored so its log is finite.
    const variance = Math.max(f(f(f(1 - alphaProdPrev) / f(1 - alphaProd)) * currentBeta), MIN_VARIANCE);
    if (varianceType === 'fixed_small_log') return f(Math.exp(f(0.5 * f(Math.log(variance)))));
    return f(Math.sqrt(variance));
  }
}

export const createDDPMScheduler = (raw: RawSchedulerConfig): Scheduler => new DDPMScheduler(raw);
