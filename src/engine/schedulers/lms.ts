/**
 * diffusers' LMSDiscreteScheduler: a linear multistep method in sigma space that combines the last
 * (up to) four ODE derivatives, weighting each by the integral over the step of its Lagrange basis
 * polynomial through the previous sigmas. StableDiffusionPipeline calls `step` with the default order 4.
 */
import type { BaseSchedulerConfig } from './config.ts';
import { TRAINING_SCHEDULE_DEFAULTS } from './config.ts';
import type { RawSchedulerConfig, Scheduler, SchedulerFactory, SchedulerStepOutput } from './scheduler.ts';
import { readSchedulerConfig } from './scheduler-support.ts';
import { predictOriginalSample, SigmaSchedulerBase } from './sigmas.ts';
import type { TorchGenerator } from '../random/torch-generator.ts';

const f32 = Math.fround;

/** The multistep order StableDiffusionPipeline uses (`step`'s default). */
export const LMS_ORDER = 4;

export interface LmsConfig extends BaseSchedulerConfig {
  use_karras_sigmas: boolean;
  use_exponential_sigmas: boolean;
  use_beta_sigmas: boolean;
}

/** `LMSDiscreteScheduler.__init__` defaults (diffusers 0.32). */
export const LMS_DEFAULTS: LmsConfig = {
  ...TRAINING_SCHEDULE_DEFAULTS,
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  prediction_type: 'epsilon',
  timestep_spacing: 'linspace',
  steps_offset: 0,
};

// 4-point Gauss-Legendre rule on [-1, 1]: exact for polynomials up to degree 7, so it integrates the
// degree <= 3 Lagrange basis polynomials exactly (scipy's adaptive quad in diffusers converges to the same).
const GL_NODES = [-0.8611363115940526, -0.33998104358485626, 0.33998104358485626, 0.8611363115940526];
const GL_WEIGHTS = [0.34785484513745385, 0.6521451548625461, 0.6521451548625461, 0.34785484513745385];

/**
 * diffusers' `get_lms_coefficient`: the integral from sigma_t to sigma_{t+1} of the Lagrange basis
 * polynomial that is 1 at sigmas[t - currentOrder] and 0 at the other nodes sigmas[t - k], k < order.
 */
export function lmsCoefficient(sigmas: readonly number[], order: number, t: number, currentOrder: number): number {
  const a = sigmas[t]!;
  const b = sigmas[t + 1]!;
  const basis = (tau: number): number => {
    let prod = 1;
    for (let k = 0; k < order; k++) {
      if (k === currentOrder) continue;
      prod *= (tau - sigmas[t - k]!) / (sigmas[t - currentOrder]! - sigmas[t - k]!);
    }
    return prod;
  };
  const mid = (a + b) / 2;
  const half = (b - a) / 2;
  let sum = 0;
  for (let q = 0; q < GL_NODES.length; q++) sum += GL_WEIGHTS[q]! * basis(mid + half * GL_NODES[q]!);
  return sum * half;
}

export class LmsDiscreteScheduler extends SigmaSchedulerBase<LmsConfig> implements Scheduler {
  readonly name = 'lms' as const;
  /** Most recent derivatives, oldest first, at most LMS_ORDER of them. */
  private derivatives: Float32Array[] = [];

  constructor(raw: RawSchedulerConfig) {
    const config = readSchedulerConfig('lms', raw, LMS_DEFAULTS, {
      predictionTypes: ['epsilon', 'v_prediction', 'sample'],
      allowNegativeStepsOffset: true,
    });
    super(config);
  }

  override setTimesteps(numInferenceSteps: number): void {
    super.setTimesteps(numInferenceSteps);
    this.derivatives = [];
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _generator: TorchGenerator): SchedulerStepOutput {
    const i = this.beginStep(modelOutput, timestep, sample);
    const n = sample.length;
    const sigma = this.sigmas[i]!;
    const predOriginalSample = predictOriginalSample(this.config.prediction_type, modelOutput, sample, sigma);

    // Reuse the evicted buffer once the history is full: no allocation per step beyond the outputs.
    const derivative = this.derivatives.length >= LMS_ORDER ? this.derivatives.shift()! : new Float32Array(n);
    for (let k = 0; k < n; k++) derivative[k] = f32(sample[k]! - predOriginalSample[k]!) / sigma;
    this.derivatives.push(derivative);

    const order = Math.min(i + 1, LMS_ORDER);
    // Coefficient j weights the derivative from j steps back; torch multiplies by it as a float32 scalar.
    // diffusers zips the coefficients with the history, so a run begun mid-schedule (img2img) uses only
    // as many terms as it has derivatives, each still weighted for the full order.
    const terms = Math.min(order, this.derivatives.length);
    const coeffs = Array.from({ length: terms }, (_, j) => f32(lmsCoefficient(this.sigmas, order, i, j)));
    // Python's sum() over the terms accumulates left to right in float32, newest derivative first.
    // One flat pass per term keeps the inner loops monomorphic; Float32Array stores do the rounding.
    const history = this.derivatives;
    const newest = history.length - 1;
    const acc = new Float32Array(n);
    const c0 = coeffs[0]!;
    const d0 = history[newest]!;
    for (let k = 0; k < n; k++) acc[k] = c0 * d0[k]!;
    for (let j = 1; j < terms; j++) {
      const c = coeffs[j]!;
      const d = history[newest - j]!;
      for (let k = 0; k < n; k++) acc[k] = acc[k]! + f32(c * d[k]!);
    }
    // prev_sample = sample + sum, written over the sum in place.
    for (let k = 0; k < n; k++) acc[k] = sample[k]! + acc[k]!;
    this.stepIndex++;
    return { prevSample: acc, predOriginalSample };
  }
}

export const createLmsScheduler: SchedulerFactory = (raw) => new LmsDiscreteScheduler(raw);
