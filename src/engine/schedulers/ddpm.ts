/**
 * diffusers' `DDPMScheduler` (Ho et al. 2020): ancestral sampling of the posterior
 * q(x_{t-1} | x_t, x0), with fresh noise from the generator at every step whose timestep is > 0.
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
  rejectOption,
  requireOneOf,
  UnscaledInputScheduler,
  validIntegerTimesteps,
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
  ...TRAINING_SCHEDULE_DEFAULTS,
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

export class DDPMScheduler extends UnscaledInputScheduler<DDPMConfig> implements Scheduler {
  readonly name = 'ddpm';
  private numInferenceSteps = 0;

  constructor(raw: RawSchedulerConfig) {
    const cls = 'DDPMScheduler';
    const config = readSchedulerConfig(cls, raw, DDPM_DEFAULTS, { predictionTypes: ['epsilon', 'sample', 'v_prediction'] });
    requireOneOf(cls, 'variance_type', config.variance_type, [
      'fixed_small',
      'fixed_small_log',
      'fixed_large',
      'fixed_large_log',
      'learned',
      'learned_range',
    ]);
    if (config.variance_type === 'learned' || config.variance_type === 'learned_range') {
      // These need the UNet's extra variance channels, which an SD UNet does not produce.
      rejectOption(cls, 'variance_type', config.variance_type, 'needs a model that predicts its variance; not implemented');
    }
    if (config.variance_type === 'fixed_large_log') {
      // diffusers takes sqrt(log(beta)) of a negative log here and samples NaN.
      rejectOption(cls, 'variance_type', config.variance_type, 'produces NaN latents in diffusers; not supported');
    }
    super(cls, config, schedulerAlphasCumprod(config));
  }

  setTimesteps(numInferenceSteps: number): void {
    this.schedule = validIntegerTimesteps(this.className, this.config, numInferenceSteps);
    this.numInferenceSteps = numInferenceSteps;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, generator: TorchGenerator): SchedulerStepOutput {
    this.checkStep(modelOutput, sample);
    // `previous_timestep`: diffusers steps by the stride floor(T / steps) rather than by the schedule.
    const prevTimestep = timestep - Math.floor(this.config.num_train_timesteps / this.numInferenceSteps);
    // DDPM has no set_alpha_to_one: before t = 0 it always uses ᾱ = 1.
    const { alphaProd, alphaProdPrev } = alphaProducts(this.alphasCumprod, timestep, prevTimestep, 1);
    const betaProd = f(1 - alphaProd);
    const betaProdPrev = f(1 - alphaProdPrev);
    const currentAlpha = f(alphaProd / alphaProdPrev);
    const currentBeta = f(1 - currentAlpha);

    const predOriginalSample = modelOutputToX0(this.config.prediction_type, modelOutput, sample, alphaSigmaOf(alphaProd));
    if (this.config.clip_sample) clampInPlace(predOriginalSample, this.config.clip_sample_range);
    // Posterior mean coefficients, formula (7) of the DDPM paper.
    const x0Coeff = f(f(f(Math.sqrt(alphaProdPrev)) * currentBeta) / betaProd);
    const sampleCoeff = f(f(f(Math.sqrt(currentAlpha)) * betaProdPrev) / betaProd);
    const n = sample.length;
    const prevSample = new Float32Array(n);
    for (let i = 0; i < n; i++) prevSample[i] = f(x0Coeff * predOriginalSample[i]!) + f(sampleCoeff * sample[i]!);

    // diffusers tests the timestep, not the step index: with steps_offset 1 the last timestep is 1,
    // so it still draws (and consumes) noise there, scaled by the 1e-20 variance floor.
    if (timestep > 0) {
      const noise = generator.randn(n);
      const std = this.noiseStd(alphaProd, alphaProdPrev, currentBeta, this.config.variance_type);
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
