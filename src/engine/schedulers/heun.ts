/**
 * diffusers' HeunDiscreteScheduler (Karras et al. 2022, Algorithm 1 with gamma = 0): each interval is an
 * Euler predictor followed by a trapezoidal corrector, so every timestep after the first appears twice
 * and the UNet runs twice per interval. The scheduler keeps the predictor's derivative, dt and starting
 * sample between the two half-steps.
 */
import type { BaseSchedulerConfig } from './config.ts';
import { TRAINING_SCHEDULE_DEFAULTS } from './config.ts';
import type { RawSchedulerConfig, Scheduler, SchedulerFactory, SchedulerStepOutput } from './scheduler.ts';
import { clampInPlace, readSchedulerConfig } from './scheduler-support.ts';
import { predictOriginalSample, SigmaSchedulerBase } from './sigmas.ts';
import type { TorchGenerator } from '../random/torch-generator.ts';

const f32 = Math.fround;

export interface HeunConfig extends BaseSchedulerConfig {
  use_karras_sigmas: boolean;
  use_exponential_sigmas: boolean;
  use_beta_sigmas: boolean;
  clip_sample: boolean;
  clip_sample_range: number;
}

/** `HeunDiscreteScheduler.__init__` defaults (diffusers 0.32): note its SD-like beta range. */
export const HEUN_DEFAULTS: HeunConfig = {
  ...TRAINING_SCHEDULE_DEFAULTS,
  beta_start: 0.00085,
  beta_end: 0.012,
  prediction_type: 'epsilon',
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  clip_sample: false,
  clip_sample_range: 1.0,
  timestep_spacing: 'linspace',
  steps_offset: 0,
};

export class HeunDiscreteScheduler extends SigmaSchedulerBase<HeunConfig> implements Scheduler {
  readonly name = 'heun' as const;
  /** Two UNet evaluations per interval (predictor and corrector). */
  override readonly order = 2;
  // Predictor state; null while the next call is a first-order (predictor) half-step.
  private prevDerivative: Float32Array | null = null;
  private dt: number | null = null;
  private predictorSample: Float32Array | null = null;

  constructor(raw: RawSchedulerConfig) {
    const config = readSchedulerConfig('heun', raw, HEUN_DEFAULTS, {
      predictionTypes: ['epsilon', 'v_prediction', 'sample'],
      extraBetaSchedules: ['exp'],
      allowNegativeStepsOffset: true,
    });
    if (!(config.clip_sample_range > 0)) {
      throw new Error(`scheduler_config.json: "clip_sample_range" must be positive, got ${config.clip_sample_range}`);
    }
    super(config);
  }

  override setTimesteps(numInferenceSteps: number): void {
    const schedule = this.buildSchedule(numInferenceSteps);
    // Interior sigmas and all timesteps but the first are repeated: the second copy is the corrector's.
    const { timesteps, sigmas } = schedule;
    const last = sigmas.length - 1;
    const repeatedSigmas = [sigmas[0]!, ...sigmas.slice(1, last).flatMap((s) => [s, s]), sigmas[last]!];
    const repeatedTimesteps = [timesteps[0]!, ...timesteps.slice(1).flatMap((t) => [t, t])];
    this.applySchedule(repeatedTimesteps, repeatedSigmas);
    this.prevDerivative = null;
    this.dt = null;
    this.predictorSample = null;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _generator: TorchGenerator): SchedulerStepOutput {
    const i = this.beginStep(modelOutput, timestep, sample);
    const n = sample.length;
    const prevSample = new Float32Array(n);
    let predOriginalSample: Float32Array;

    if (this.dt === null) {
      // Predictor: Euler from sigmas[i] to sigmas[i + 1].
      const sigma = this.sigmas[i]!;
      const dt = f32(this.sigmas[i + 1]! - sigma);
      predOriginalSample = this.predict(modelOutput, sample, sigma);
      const derivative = new Float32Array(n);
      for (let k = 0; k < n; k++) {
        derivative[k] = f32(sample[k]! - predOriginalSample[k]!) / sigma;
        prevSample[k] = sample[k]! + f32(derivative[k]! * dt);
      }
      this.prevDerivative = derivative;
      this.dt = dt;
      // Copied: the caller may reuse its buffer, and the corrector restarts from this sample.
      this.predictorSample = Float32Array.from(sample);
    } else {
      // Corrector: the model ran at the predicted point (sigma_next = sigmas[i]); average the slopes.
      const sigmaNext = this.sigmas[i]!;
      const dt = this.dt;
      const prevDerivative = this.prevDerivative!;
      const start = this.predictorSample!;
      predOriginalSample = this.predict(modelOutput, sample, sigmaNext);
      for (let k = 0; k < n; k++) {
        const derivative = f32(f32(sample[k]! - predOriginalSample[k]!) / sigmaNext);
        const averaged = f32(f32(prevDerivative[k]! + derivative) / 2);
        prevSample[k] = start[k]! + f32(averaged * dt);
      }
      this.prevDerivative = null;
      this.dt = null;
      this.predictorSample = null;
    }
    this.stepIndex++;
    return { prevSample, predOriginalSample };
  }

  private predict(modelOutput: Float32Array, sample: Float32Array, sigma: number): Float32Array {
    const x0 = predictOriginalSample(this.config.prediction_type, modelOutput, sample, sigma);
    if (this.config.clip_sample) clampInPlace(x0, this.config.clip_sample_range);
    return x0;
  }
}

export const createHeunScheduler: SchedulerFactory = (raw) => new HeunDiscreteScheduler(raw);
