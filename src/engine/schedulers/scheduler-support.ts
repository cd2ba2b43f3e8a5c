/**
 * Small pieces the diffusers scheduler ports share: reading and validating the config with errors that
 * name the key, the runtime checks of `step`, the prediction-type conversions of the variance-preserving
 * parameterisation, and the base class of the schedulers that feed the UNet the latents unscaled.
 */
import type { BaseSchedulerConfig, BetaSchedule } from './config.ts';
import { resolveConfig } from './config.ts';
import { roundHalfEven, spacedTimesteps } from './noise-schedule.ts';
import type { PredictionType, RawSchedulerConfig, SchedulerName } from './scheduler.ts';

const f = Math.fround;

/** Throws unless `value` is one of `allowed`; the message names the key and the scheduler. */
export function requireOneOf<T extends string>(
  scheduler: string,
  key: string,
  value: unknown,
  allowed: readonly T[],
): asserts value is T {
  if (!allowed.includes(value as T)) {
    throw new Error(
      `scheduler_config.json: ${scheduler} does not support ${key} ${JSON.stringify(value)}; expected one of ${allowed
        .map((a) => JSON.stringify(a))
        .join(', ')}`,
    );
  }
}

/** For options diffusers has but this port leaves out: fail loudly rather than sample differently. */
export function rejectOption(scheduler: string, key: string, value: unknown, why = 'is not implemented'): never {
  throw new Error(`scheduler_config.json: ${scheduler}: ${key} = ${JSON.stringify(value)} ${why}`);
}

/** What a class accepts beyond the keys every scheduler validates the same way. */
export interface BaseConfigRules {
  predictionTypes: readonly PredictionType[];
  /** Heun alone also accepts beta_schedule "exp". */
  extraBetaSchedules?: readonly BetaSchedule[];
  /**
   * The sigma schedulers interpolate their sigmas at the timesteps (np.interp clamps), so a negative
   * steps_offset is harmless there, as in diffusers; the DDPM family would index ᾱ before t = 0.
   */
  allowNegativeStepsOffset?: boolean;
}

const BETA_SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2'];

/** Checks the keys every scheduler reads, so a bad config fails at construction, not mid-run. */
export function validateBaseConfig(scheduler: string, config: BaseSchedulerConfig, rules: BaseConfigRules): void {
  const n = config.num_train_timesteps;
  if (!Number.isInteger(n) || n < 2) {
    throw new Error(`scheduler_config.json: num_train_timesteps must be an integer >= 2, got ${JSON.stringify(n)}`);
  }
  if (config.trained_betas !== null) {
    const betas: unknown = config.trained_betas;
    if (!Array.isArray(betas) || betas.length !== n || !betas.every((b) => typeof b === 'number' && Number.isFinite(b))) {
      throw new Error(`scheduler_config.json: trained_betas must be ${n} finite numbers (one per training timestep)`);
    }
  } else {
    requireOneOf(scheduler, 'beta_schedule', config.beta_schedule, [...BETA_SCHEDULES, ...(rules.extraBetaSchedules ?? [])]);
  }
  requireOneOf(scheduler, 'timestep_spacing', config.timestep_spacing, ['linspace', 'leading', 'trailing']);
  const offset = config.steps_offset;
  const allowNegative = rules.allowNegativeStepsOffset === true;
  if (!Number.isInteger(offset) || (offset < 0 && !allowNegative)) {
    throw new Error(`scheduler_config.json: steps_offset must be ${allowNegative ? 'an' : 'a non-negative'} integer, got ${offset}`);
  }
  requireOneOf(scheduler, 'prediction_type', config.prediction_type, rules.predictionTypes);
}

/**
 * `SchedulerClass.from_config(raw)` with the shared checks: the class defaults filled in, the common keys
 * validated, and dynamic thresholding (which every class that has it defaults off) refused.
 */
export function readSchedulerConfig<T extends BaseSchedulerConfig>(
  scheduler: string,
  raw: RawSchedulerConfig,
  defaults: Readonly<T>,
  rules: BaseConfigRules,
): T {
  const config = resolveConfig<T>(raw, defaults);
  validateBaseConfig(scheduler, config, rules);
  if ('thresholding' in config && config.thresholding === true) {
    rejectOption(scheduler, 'thresholding', true, '(dynamic thresholding) is not implemented');
  }
  return config;
}

/**
 * Rejects a step count that is not a positive integer, or (given the training length) one that
 * exceeds it, before any schedule is built from it.
 */
export function validateStepCount(numInferenceSteps: number, numTrainTimesteps = Number.POSITIVE_INFINITY): void {
  if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
    throw new RangeError(`steps must be a positive integer, got ${numInferenceSteps}`);
  }
  if (numInferenceSteps > numTrainTimesteps) {
    throw new RangeError(`steps (${numInferenceSteps}) cannot exceed the model's num_train_timesteps (${numTrainTimesteps})`);
  }
}

/**
 * Checks the arrays handed to `step` line up; a length mismatch would otherwise read past the end
 * and silently produce NaN latents.
 */
export function requireSameLength(modelOutput: Float32Array, sample: Float32Array): void {
  if (modelOutput.length !== sample.length) {
    throw new RangeError(`model output has ${modelOutput.length} values but the sample has ${sample.length}`);
  }
}

/**
 * Refuses a schedule with a timestep outside the training range. numpy's rounding makes diffusers
 * build such schedules for some step counts (e.g. 'trailing' spacing can end on timestep -1, which
 * torch then indexes from the end); sampling with them would be garbage, so fail with the cause.
 */
export function requireTimestepsInRange(
  scheduler: string,
  timesteps: readonly number[],
  trainSteps: number,
  numInferenceSteps: number,
  spacing: string,
): void {
  for (const t of timesteps) {
    if (Number.isInteger(t) && t >= 0 && t < trainSteps) continue;
    throw new RangeError(
      `${scheduler}: ${numInferenceSteps} steps with timestep_spacing "${spacing}" give timestep ${t}, outside 0..${trainSteps - 1} (diffusers builds the same broken schedule); choose another step count`,
    );
  }
}

/**
 * The DDPM family's `set_timesteps` (DDIM, DDPM, PNDM): validated integer timesteps, descending, with
 * `linspace` ones rounded as numpy does.
 */
export function validIntegerTimesteps(scheduler: string, config: BaseSchedulerConfig, numInferenceSteps: number): number[] {
  const n = config.num_train_timesteps;
  validateStepCount(numInferenceSteps, n);
  const timesteps = spacedTimesteps(config.timestep_spacing, n, numInferenceSteps, config.steps_offset).map(roundHalfEven);
  requireTimestepsInRange(scheduler, timesteps, config.num_train_timesteps, numInferenceSteps, config.timestep_spacing);
  return timesteps;
}

/** `alphas_cumprod[t]`, refusing timesteps that would index past the training schedule. */
export function alphaAt(alphasCumprod: Float64Array, timestep: number): number {
  const value = alphasCumprod[timestep];
  if (!Number.isInteger(timestep) || value === undefined) {
    throw new RangeError(`timestep ${timestep} is outside the training schedule (0..${alphasCumprod.length - 1})`);
  }
  return value;
}

/**
 * ᾱ at `timestep` and at `prevTimestep`; before the first training timestep (prevTimestep < 0)
 * diffusers uses `final_alpha_cumprod` instead.
 */
export function alphaProducts(
  alphasCumprod: Float64Array,
  timestep: number,
  prevTimestep: number,
  finalAlphaCumprod: number,
): { alphaProd: number; alphaProdPrev: number } {
  const alphaProd = alphaAt(alphasCumprod, timestep);
  const alphaProdPrev = prevTimestep >= 0 ? alphasCumprod[prevTimestep]! : finalAlphaCumprod;
  return { alphaProd, alphaProdPrev };
}

/** The signal and noise scales of x_t = α_t·x0 + σ_t·ε (variance preserving: α² + σ² = 1). */
export interface AlphaSigma {
  alpha: number;
  sigma: number;
}

/** (α_t, σ_t) = (sqrt(ᾱ_t), sqrt(1 - ᾱ_t)), each rounded to float32 as the DDPM family's tensors are. */
export function alphaSigmaOf(alphaProd: number): AlphaSigma {
  return { alpha: f(Math.sqrt(alphaProd)), sigma: f(Math.sqrt(f(1 - alphaProd))) };
}

/**
 * The x0 estimate from the model output for x_t = α·x0 + σ·ε, op by op in float32 (the Float32Array
 * stores round each result): epsilon: (x - σ·ε) / α; v: α·x - σ·v; sample: the output itself.
 */
export function modelOutputToX0(predictionType: PredictionType, modelOutput: Float32Array, sample: Float32Array, { alpha, sigma }: AlphaSigma): Float32Array {
  const n = sample.length;
  const out = new Float32Array(n);
  if (predictionType === 'epsilon') for (let i = 0; i < n; i++) out[i] = f(sample[i]! - f(sigma * modelOutput[i]!)) / alpha;
  else if (predictionType === 'v_prediction') for (let i = 0; i < n; i++) out[i] = f(alpha * sample[i]!) - f(sigma * modelOutput[i]!);
  else out.set(modelOutput);
  return out;
}

/** The ε estimate from the model output for x_t = α·x0 + σ·ε: epsilon: itself; v: α·v + σ·x; sample: (x - α·x0) / σ. */
export function modelOutputToEpsilon(
  predictionType: PredictionType,
  modelOutput: Float32Array,
  sample: Float32Array,
  { alpha, sigma }: AlphaSigma,
): Float32Array {
  const n = sample.length;
  const out = new Float32Array(n);
  if (predictionType === 'epsilon') out.set(modelOutput);
  else if (predictionType === 'v_prediction') for (let i = 0; i < n; i++) out[i] = f(alpha * modelOutput[i]!) + f(sigma * sample[i]!);
  else for (let i = 0; i < n; i++) out[i] = f(sample[i]! - f(alpha * modelOutput[i]!)) / sigma;
  return out;
}

/**
 * `clip_sample`: clamps to [-range, range] in place, as torch clamps a float32 tensor. The stores round
 * a clamped value to float32, so passing `range` or its float32 rounding gives the same result.
 */
export function clampInPlace(values: Float32Array, range: number): void {
  for (let i = 0; i < values.length; i++) values[i] = Math.min(Math.max(values[i]!, -range), range);
}

/**
 * State and plumbing common to the schedulers that step on ᾱ and feed the UNet the latents unscaled
 * (DDIM, DDPM, PNDM, LCM and the multistep solvers): the config, ᾱ, the schedule and the checks every
 * `step` starts with. Subclasses supply `setTimesteps` and `step`.
 */
export abstract class UnscaledInputScheduler<C extends BaseSchedulerConfig> {
  abstract readonly name: SchedulerName;
  readonly initNoiseSigma = 1;
  readonly order: number = 1;
  protected schedule: number[] = [];

  protected constructor(
    /** The diffusers class name, for error messages. */
    protected readonly className: string,
    readonly config: Readonly<C>,
    /** float32 ᾱ_t per training timestep. */
    readonly alphasCumprod: Float64Array,
  ) {}

  get timesteps(): readonly number[] {
    return this.schedule;
  }

  scaleModelInput(sample: Float32Array, _timestep: number): Float32Array {
    return sample;
  }

  /** DDIM, DDPM and PNDM have no begin index in diffusers: they step by the timestep they are given. */
  setBeginIndex(_index: number): void {}

  /** The DDPM family's `add_noise`: sqrt(ᾱ_t)·x0 + sqrt(1 - ᾱ_t)·ε, each factor a float32 scalar. */
  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    requireSameLength(noise, original);
    const { alpha, sigma } = alphaSigmaOf(alphaAt(this.alphasCumprod, timestep));
    const out = new Float32Array(original.length);
    for (let i = 0; i < out.length; i++) out[i] = f(alpha * original[i]!) + f(sigma * noise[i]!);
    return out;
  }

  /** Refuses a `step` before `setTimesteps` or with arrays that do not line up. */
  protected checkStep(modelOutput: Float32Array, sample: Float32Array): void {
    if (this.schedule.length === 0) throw new Error(`${this.className}: call setTimesteps before step`);
    requireSameLength(modelOutput, sample);
  }
}
