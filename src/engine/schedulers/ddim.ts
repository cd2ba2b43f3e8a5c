/**
 * diffusers' `DDIMScheduler` (Song et al. 2020) with eta = 0, the StableDiffusionPipeline default:
 * a deterministic step that needs no noise. Float32 rounding follows the torch tensor ops.
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
  modelOutputToEpsilon,
  modelOutputToX0,
  readSchedulerConfig,
  UnscaledInputScheduler,
  validIntegerTimesteps,
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
  ...TRAINING_SCHEDULE_DEFAULTS,
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

export class DDIMScheduler extends UnscaledInputScheduler<DDIMConfig> implements Scheduler {
  readonly name = 'ddim';
  /** ᾱ used after the last step: 1, or ᾱ_0 when `set_alpha_to_one` is false (as in SD 1.x). */
  private readonly finalAlphaCumprod: number;
  private numInferenceSteps = 0;

  constructor(raw: RawSchedulerConfig) {
    const config = readSchedulerConfig('DDIMScheduler', raw, DDIM_DEFAULTS, { predictionTypes: ['epsilon', 'sample', 'v_prediction'] });
    super('DDIMScheduler', config, schedulerAlphasCumprod(config));
    this.finalAlphaCumprod = config.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
  }

  setTimesteps(numInferenceSteps: number): void {
    this.schedule = validIntegerTimesteps(this.className, this.config, numInferenceSteps);
    this.numInferenceSteps = numInferenceSteps;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _generator: TorchGenerator): SchedulerStepOutput {
    this.checkStep(modelOutput, sample);
    // diffusers derives the previous timestep from the stride, not from the schedule, so a
    // `linspace` schedule with uneven gaps still steps by floor(T / steps).
    const prevTimestep = timestep - Math.floor(this.config.num_train_timesteps / this.numInferenceSteps);
    const { alphaProd, alphaProdPrev } = alphaProducts(this.alphasCumprod, timestep, prevTimestep, this.finalAlphaCumprod);
    const alphaSigma = alphaSigmaOf(alphaProd);
    const sqrtAlphaPrev = f(Math.sqrt(alphaProdPrev));
    // eta = 0 makes std_dev_t zero, so the direction term is sqrt(1 - ᾱ_prev) * ε.
    const direction = f(Math.sqrt(f(1 - alphaProdPrev)));

    const predictionType = this.config.prediction_type;
    const predOriginalSample = modelOutputToX0(predictionType, modelOutput, sample, alphaSigma);
    const eps = modelOutputToEpsilon(predictionType, modelOutput, sample, alphaSigma);
    // Clipping x0 does not feed back into ε (use_clipped_model_output is false in the pipeline).
    if (this.config.clip_sample) clampInPlace(predOriginalSample, this.config.clip_sample_range);
    const prevSample = new Float32Array(sample.length);
    for (let i = 0; i < prevSample.length; i++) prevSample[i] = f(sqrtAlphaPrev * predOriginalSample[i]!) + f(direction * eps[i]!);
    return { prevSample, predOriginalSample };
  }
}

export const createDDIMScheduler = (raw: RawSchedulerConfig): Scheduler => new DDIMScheduler(raw);
