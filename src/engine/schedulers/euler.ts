/**
 * diffusers' EulerDiscreteScheduler (Karras et al. 2022, Algorithm 2) with the defaults
 * StableDiffusionPipeline runs it with: s_churn = 0, so no noise is injected and the sampler is a
 * deterministic Euler step of the probability-flow ODE in sigma space.
 */
import type { BaseSchedulerConfig } from './config.ts';
import { TRAINING_SCHEDULE_DEFAULTS } from './config.ts';
import type { RawSchedulerConfig, Scheduler, SchedulerFactory, SchedulerStepOutput } from './scheduler.ts';
import { readSchedulerConfig, requireOneOf } from './scheduler-support.ts';
import { predictOriginalSample, SigmaSchedulerBase } from './sigmas.ts';
import type { InterpolationType } from './sigmas.ts';
import type { TorchGenerator } from '../random/torch-generator.ts';

const f32 = Math.fround;

export interface EulerConfig extends BaseSchedulerConfig {
  interpolation_type: InterpolationType;
  use_karras_sigmas: boolean;
  use_exponential_sigmas: boolean;
  use_beta_sigmas: boolean;
  sigma_min: number | null;
  sigma_max: number | null;
  timestep_type: 'discrete' | 'continuous';
  rescale_betas_zero_snr: boolean;
  final_sigmas_type: 'zero' | 'sigma_min';
}

/** `EulerDiscreteScheduler.__init__` defaults (diffusers 0.32). */
export const EULER_DEFAULTS: EulerConfig = {
  ...TRAINING_SCHEDULE_DEFAULTS,
  prediction_type: 'epsilon',
  interpolation_type: 'linear',
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  sigma_min: null,
  sigma_max: null,
  timestep_spacing: 'linspace',
  timestep_type: 'discrete',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
  final_sigmas_type: 'zero',
};

export class EulerDiscreteScheduler extends SigmaSchedulerBase<EulerConfig> implements Scheduler {
  readonly name = 'euler' as const;

  constructor(raw: RawSchedulerConfig) {
    const config = readSchedulerConfig('euler', raw, EULER_DEFAULTS, {
      predictionTypes: ['epsilon', 'v_prediction', 'sample'],
      allowNegativeStepsOffset: true,
    });
    requireOneOf('euler', 'interpolation_type', config.interpolation_type, ['linear', 'log_linear']);
    requireOneOf('euler', 'timestep_type', config.timestep_type, ['discrete', 'continuous']);
    requireOneOf('euler', 'final_sigmas_type', config.final_sigmas_type, ['zero', 'sigma_min']);
    for (const key of ['sigma_min', 'sigma_max'] as const) {
      const value = config[key];
      if (value !== null && !(typeof value === 'number' && value > 0)) {
        throw new Error(`scheduler_config.json: "${key}" must be a positive number or null, got ${JSON.stringify(value)}`);
      }
    }
    super(config);
  }

  override setTimesteps(numInferenceSteps: number): void {
    const { config } = this;
    const schedule = this.buildSchedule(numInferenceSteps, {
      interpolationType: config.interpolation_type,
      sigmaMin: config.sigma_min,
      sigmaMax: config.sigma_max,
      // "sigma_min" ends on the smallest training sigma instead of 0 (fully denoised).
      finalSigma: config.final_sigmas_type === 'sigma_min' ? this.trainSigmas[0]! : 0,
    });
    let { timesteps } = schedule;
    if (config.timestep_type === 'continuous' && config.prediction_type === 'v_prediction') {
      // EDM-style conditioning: the UNet is fed c_noise = log(sigma) / 4 instead of a training timestep.
      timesteps = schedule.sigmas.slice(0, -1).map((s) => f32(0.25 * f32(Math.log(s))));
    }
    this.applySchedule(timesteps, schedule.sigmas);
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _generator: TorchGenerator): SchedulerStepOutput {
    const i = this.beginStep(modelOutput, timestep, sample);
    // With s_churn = 0, gamma = 0 and sigma_hat = sigma * (gamma + 1) = sigma: no noise is drawn.
    const sigma = this.sigmas[i]!;
    const dt = f32(this.sigmas[i + 1]! - sigma);
    const predOriginalSample = predictOriginalSample(this.config.prediction_type, modelOutput, sample, sigma);
    const prevSample = new Float32Array(sample.length);
    for (let k = 0; k < sample.length; k++) {
      const derivative = f32(f32(sample[k]! - predOriginalSample[k]!) / sigma);
      prevSample[k] = sample[k]! + f32(derivative * dt);
    }
    this.stepIndex++;
    return { prevSample, predOriginalSample };
  }
}

export const createEulerScheduler: SchedulerFactory = (raw) => new EulerDiscreteScheduler(raw);
