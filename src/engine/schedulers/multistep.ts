/**
 * State and plumbing shared by the multistep solvers, DPM-Solver(++) and UniPC. diffusers wrote UniPC's
 * schedule and model-output conversion as copies of DPM-Solver's; this port keeps them here once. Both
 * integrate in sigma space over the training sigmas and keep a short history of converted model outputs.
 */
import type { BaseSchedulerConfig } from './config.ts';
import { requireScheduleIndex } from './sigmas.ts';
import { multistepTimesteps, roundHalfEven, sigmaSchedulerAlphasCumprod } from './noise-schedule.ts';
import {
  modelOutputToEpsilon,
  modelOutputToX0,
  requireSameLength,
  requireTimestepsInRange,
  UnscaledInputScheduler,
  validateStepCount,
} from './scheduler-support.ts';
import { indexForTimestep, karrasSigmas, lambdaT, logSigmas, sigmaToAlphaSigmaT, sigmaToT, vpSigmas } from './sigma-math.ts';

const f = Math.fround;

export interface MultistepConfig extends BaseSchedulerConfig {
  solver_order: number;
  use_karras_sigmas: boolean;
  final_sigmas_type: 'zero' | 'sigma_min';
  rescale_betas_zero_snr: boolean;
}

export abstract class MultistepScheduler<C extends MultistepConfig> extends UnscaledInputScheduler<C> {
  private readonly trainSigmas: Float64Array;
  private readonly trainLogSigmas: Float64Array;
  private scheduleSigmas = new Float64Array(0);

  // Per-generation state, reset by setTimesteps.
  /** Converted model outputs (x0, or ε when not predicting data), newest last; null until filled. */
  protected modelOutputs: (Float32Array | null)[] = [];
  protected lowerOrderNums = 0;
  /** Index of the next step; found from the first timestep given to `step` (img2img may start late). */
  protected stepIndex: number | null = null;

  protected constructor(className: string, config: C) {
    super(className, config, sigmaSchedulerAlphasCumprod(config));
    this.trainSigmas = vpSigmas(this.alphasCumprod);
    this.trainLogSigmas = logSigmas(this.trainSigmas);
  }

  /** The sigma of each timestep plus the final one (0 or sigma_min), as float32. */
  get sigmas(): readonly number[] {
    return Array.from(this.scheduleSigmas);
  }

  /** Whether the solver integrates the data prediction x0 rather than the noise prediction ε. */
  protected abstract predictsData(): boolean;

  /** One past the noisiest timestep the schedule may start from (DPM-Solver trims it with lambda_min_clipped). */
  protected lastTimestep(): number {
    return this.config.num_train_timesteps;
  }

  setTimesteps(numInferenceSteps: number): void {
    const { num_train_timesteps: trainSteps, timestep_spacing: spacing } = this.config;
    validateStepCount(numInferenceSteps, trainSteps);
    let timesteps = multistepTimesteps(spacing, trainSteps, this.lastTimestep(), numInferenceSteps, this.config.steps_offset);
    let sigmas: number[];
    if (this.config.use_karras_sigmas) {
      const trainSigmas = this.trainSigmas;
      sigmas = Array.from(karrasSigmas(trainSigmas[0]!, trainSigmas[trainSigmas.length - 1]!, numInferenceSteps));
      timesteps = sigmas.map((s) => roundHalfEven(sigmaToT(s, this.trainLogSigmas)));
    } else {
      requireTimestepsInRange(this.className, timesteps, trainSteps, numInferenceSteps, spacing);
      sigmas = timesteps.map((t) => this.trainSigmas[t]!);
    }
    sigmas.push(this.finalSigma(sigmas));

    this.schedule = timesteps;
    this.scheduleSigmas = Float64Array.from(sigmas, f);
    this.modelOutputs = new Array<Float32Array | null>(this.config.solver_order).fill(null);
    this.lowerOrderNums = 0;
    this.stepIndex = null;
  }

  override setBeginIndex(index: number): void {
    requireScheduleIndex(this.className, this.schedule, index);
    this.stepIndex = index;
  }

  /** DPM-Solver's and UniPC's `add_noise`: alpha_t·x0 + sigma_t·ε at the sigma of the begin index. */
  override addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    requireSameLength(noise, original);
    const index = this.stepIndex ?? indexForTimestep(this.schedule, timestep);
    const { alphaT, sigmaT } = sigmaToAlphaSigmaT(this.scheduleSigmas[index]!);
    const out = new Float32Array(original.length);
    for (let i = 0; i < out.length; i++) out[i] = f(alphaT * original[i]!) + f(sigmaT * noise[i]!);
    return out;
  }

  /** The sigma after the last step: 0, or for final_sigmas_type "sigma_min" the smallest training sigma. */
  protected finalSigma(_sigmas: readonly number[]): number {
    return this.config.final_sigmas_type === 'zero' ? 0 : this.trainSigmas[0]!;
  }

  /** Checks the call and returns the schedule index of this step, found from the first timestep given. */
  protected beginStep(modelOutput: Float32Array, timestep: number, sample: Float32Array): number {
    this.checkStep(modelOutput, sample);
    this.stepIndex ??= indexForTimestep(this.schedule, timestep);
    return this.stepIndex;
  }

  /**
   * `convert_model_output`: the data prediction x0 or the noise prediction ε the solver integrates,
   * derived from whatever the model predicts at this step's sigma.
   */
  protected convertModelOutput(modelOutput: Float32Array, sample: Float32Array, index: number): Float32Array {
    const convert = this.predictsData() ? modelOutputToX0 : modelOutputToEpsilon;
    return convert(this.config.prediction_type, modelOutput, sample, this.point(index));
  }

  /** The x0 estimate for previews: the converted output itself when the solver predicts data. */
  protected previewX0(converted: Float32Array, sample: Float32Array, index: number): Float32Array {
    if (this.predictsData()) return converted.slice();
    return modelOutputToX0('epsilon', converted, sample, this.point(index));
  }

  /** alpha_t, sigma_t and lambda_t at schedule index `i` (lambda = +inf at a zero sigma). */
  protected point(i: number): { alpha: number; sigma: number; lambda: number } {
    const { alphaT, sigmaT } = sigmaToAlphaSigmaT(this.scheduleSigmas[i]!);
    return { alpha: alphaT, sigma: sigmaT, lambda: lambdaT(alphaT, sigmaT) };
  }
}
