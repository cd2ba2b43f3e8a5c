/**
 * Sigma machinery shared by the k-diffusion style schedulers (LMS, Euler, Euler ancestral, Heun).
 *
 * These schedulers work in "sigma space" (x = x0 + sigma * eps) rather than the variance-preserving
 * space of DDPM/DDIM. Everything here mirrors the numpy/torch code in diffusers 0.32, including
 * where it rounds to float32, because the timesteps we hand the UNet and the sigmas we step with
 * have to be the very numbers diffusers produces for a seed to give the same image.
 */
import type { BaseSchedulerConfig, TimestepSpacing } from './config.ts';
import { npLinspace, sigmaSchedulerAlphasCumprod, spacedTimesteps, torchLinspaceF32 } from './noise-schedule.ts';
import type { PredictionType, SchedulerName } from './scheduler.ts';
import { indexForTimestep, karrasSigmas, logSigmas, sigmaToT, vpSigmas } from './sigma-math.ts';

const f32 = Math.fround;

export type SigmaKind = 'default' | 'karras' | 'exponential' | 'beta';
export type InterpolationType = 'linear' | 'log_linear';

/**
 * Picks the sigma spacing from the three mutually exclusive `use_*_sigmas` flags (absent ones count as
 * false), rejecting combinations the way diffusers' constructors do.
 */
export function sigmaKindFromFlags(config: object): SigmaKind {
  const flags = config as Partial<Record<string, unknown>>;
  const set = (['karras', 'exponential', 'beta'] as const).filter((kind) => flags[`use_${kind}_sigmas`] === true);
  if (set.length > 1) {
    throw new Error('scheduler_config.json: only one of use_karras_sigmas, use_exponential_sigmas, use_beta_sigmas can be true');
  }
  return set[0] ?? 'default';
}

/**
 * `np.interp(x, np.arange(len(fp)), fp)`: linear interpolation over unit-spaced knots, clamping to the
 * end values outside them, with numpy's evaluation order so results agree to the last bit.
 */
export function interpUnitGrid(x: number, fp: Float64Array): number {
  const last = fp.length - 1;
  if (Number.isNaN(x)) return x;
  if (x < 0) return fp[0]!;
  if (x >= last) return fp[last]!;
  const j = Math.floor(x);
  if (j === x) return fp[j]!;
  const slope = fp[j + 1]! - fp[j]!;
  return slope * (x - j) + fp[j]!;
}

/**
 * Descending float32 timesteps for a spacing, as the sigma schedulers' `set_timesteps` builds them with
 * numpy: `linspace` ones stay fractional, and `trailing` keeps numpy's extra step at -1 for some counts.
 */
export function sigmaSchedulerTimesteps(spacing: TimestepSpacing, numTrainTimesteps: number, numInferenceSteps: number, stepsOffset: number): number[] {
  return spacedTimesteps(spacing, numTrainTimesteps, numInferenceSteps, stepsOffset).map(f32);
}

/** Log-uniform schedule from sigmaMax down to sigmaMin (`_convert_to_exponential`). */
export function exponentialSigmas(sigmaMin: number, sigmaMax: number, numInferenceSteps: number): number[] {
  return Array.from(npLinspace(Math.log(sigmaMax), Math.log(sigmaMin), numInferenceSteps), Math.exp);
}

/** "Beta Sampling is All You Need" (arXiv 2407.12173) schedule with alpha = beta = 0.6 (`_convert_to_beta`). */
export function betaSigmas(sigmaMin: number, sigmaMax: number, numInferenceSteps: number, alpha = 0.6, beta = 0.6): number[] {
  return Array.from(npLinspace(0, 1, numInferenceSteps), (r) => sigmaMin + betaPpf(1 - r, alpha, beta) * (sigmaMax - sigmaMin));
}

// Lanczos approximation (g = 7, 9 terms): ~1e-15 relative, enough for scipy-level beta quantiles.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction for the incomplete beta function (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
  let h = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b): the Beta(a, b) CDF. */
function betaCdf(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(a * Math.log(x) + b * Math.log1p(-x) - (logGamma(a) + logGamma(b) - logGamma(a + b)));
  // The continued fraction converges fast only below the mean; use the symmetry relation above it.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** `scipy.stats.beta.ppf(q, a, b)` by bisection of the CDF down to adjacent doubles. */
export function betaPpf(q: number, a: number, b: number): number {
  if (q <= 0) return 0;
  if (q >= 1) return 1;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 2000; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (betaCdf(mid, a, b) < q) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

export interface SigmaScheduleOptions {
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
  sigmaKind: SigmaKind;
  interpolationType?: InterpolationType;
  /** Euler's `sigma_min` / `sigma_max` overrides for the Karras/exponential/beta endpoints. */
  sigmaMin?: number | null;
  sigmaMax?: number | null;
  /** Appended after the last step: 0, or Euler's `final_sigmas_type: "sigma_min"`. */
  finalSigma?: number;
}

export interface SigmaSchedule {
  /** float32 timesteps for the UNet, descending. */
  timesteps: number[];
  /** float32 sigmas, one per timestep plus the final one. */
  sigmas: number[];
}

/**
 * The shared part of `set_timesteps`: spaced timesteps, their interpolated sigmas, optionally
 * respaced (Karras / exponential / beta, with timesteps recovered from the new sigmas), and the
 * final sigma. Sigmas stay float64 until the end because diffusers only casts the finished array.
 */
export function buildSigmaSchedule(trainSigmas: Float64Array, numInferenceSteps: number, options: SigmaScheduleOptions): SigmaSchedule {
  const numTrain = trainSigmas.length;
  if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1 || numInferenceSteps > numTrain) {
    throw new RangeError(`steps must be an integer from 1 to num_train_timesteps (${numTrain}), got ${numInferenceSteps}`);
  }
  let timesteps = sigmaSchedulerTimesteps(options.timestepSpacing, numTrain, numInferenceSteps, options.stepsOffset);
  let sigmas: number[];
  const interpolation = options.interpolationType ?? 'linear';
  if (interpolation === 'linear') {
    sigmas = timesteps.map((t) => interpUnitGrid(t, trainSigmas));
  } else if (interpolation === 'log_linear') {
    // diffusers spans the whole training range here (numInferenceSteps + 1 values), independent of the
    // spacing; reproduced as is.
    sigmas = torchLinspaceF32(f32(Math.log(trainSigmas[numTrain - 1]!)), f32(Math.log(trainSigmas[0]!)), numInferenceSteps + 1).map((l) =>
      f32(Math.exp(l)),
    );
  } else {
    throw new Error(`scheduler_config.json: unsupported interpolation_type "${String(interpolation)}"`);
  }

  if (options.sigmaKind !== 'default') {
    const sigmaMin = options.sigmaMin ?? sigmas[sigmas.length - 1]!;
    const sigmaMax = options.sigmaMax ?? sigmas[0]!;
    if (options.sigmaKind === 'karras') sigmas = Array.from(karrasSigmas(sigmaMin, sigmaMax, numInferenceSteps));
    else if (options.sigmaKind === 'exponential') sigmas = exponentialSigmas(sigmaMin, sigmaMax, numInferenceSteps);
    else sigmas = betaSigmas(sigmaMin, sigmaMax, numInferenceSteps);
    const logTrainSigmas = logSigmas(trainSigmas);
    timesteps = sigmas.map((s) => f32(sigmaToT(s, logTrainSigmas)));
  }
  sigmas.push(options.finalSigma ?? 0);
  return { timesteps, sigmas: sigmas.map(f32) };
}

/** Largest sigma, and the `init_noise_sigma` diffusers derives from it for this spacing. */
export function initNoiseSigmaFor(sigmas: readonly number[], spacing: TimestepSpacing): number {
  let max = -Infinity;
  for (const s of sigmas) if (s > max) max = s;
  if (spacing === 'linspace' || spacing === 'trailing') return max;
  return f32(Math.sqrt(f32(f32(max * max) + 1)));
}

/** `(sigma**2 + 1) ** 0.5` as the float32 scalar diffusers divides the model input by. */
export function inputScale(sigma: number): number {
  return f32(Math.sqrt(f32(f32(sigma * sigma) + 1)));
}

/** `sample / (sigma**2 + 1) ** 0.5`; Float32Array stores round each quotient as torch does. */
export function scaleBySigma(sample: Float32Array, sigma: number): Float32Array {
  const scale = inputScale(sigma);
  const out = new Float32Array(sample.length);
  for (let i = 0; i < sample.length; i++) out[i] = sample[i]! / scale;
  return out;
}

/**
 * The x0 estimate from the model output for a sample at noise level `sigma`, op by op in float32:
 * epsilon: `sample - sigma * eps`; v: `v * (-sigma / sqrt(sigma^2 + 1)) + sample / (sigma^2 + 1)`;
 * sample: the output itself.
 */
export function predictOriginalSample(predictionType: PredictionType, modelOutput: Float32Array, sample: Float32Array, sigma: number): Float32Array {
  const n = sample.length;
  if (modelOutput.length !== n) throw new RangeError(`model output has ${modelOutput.length} values, sample has ${n}`);
  const out = new Float32Array(n);
  if (predictionType === 'epsilon') {
    for (let i = 0; i < n; i++) out[i] = sample[i]! - f32(sigma * modelOutput[i]!);
  } else if (predictionType === 'v_prediction') {
    const sigmaSqPlusOne = f32(f32(sigma * sigma) + 1);
    const cOut = f32(-sigma / f32(Math.sqrt(sigmaSqPlusOne)));
    for (let i = 0; i < n; i++) out[i] = f32(modelOutput[i]! * cOut) + f32(sample[i]! / sigmaSqPlusOne);
  } else if (predictionType === 'sample') {
    out.set(modelOutput);
  } else {
    throw new Error(`unsupported prediction_type "${String(predictionType)}"`);
  }
  return out;
}

/** Refuses a begin index outside the schedule set by `setTimesteps`. */
export function requireScheduleIndex(name: string, timesteps: readonly number[], index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= timesteps.length) {
    throw new RangeError(`${name}: begin index ${index} is outside the ${timesteps.length}-entry schedule (call setTimesteps first)`);
  }
}

/**
 * Tracks the step index through a generation and checks each call's timestep against the schedule,
 * so out-of-order use fails loudly instead of silently stepping with the wrong sigma. The tolerance
 * admits timesteps that went through a float16 cast on their way to the UNet.
 */
export function checkTimestep(name: string, timesteps: readonly number[], index: number, timestep: number): void {
  if (timesteps.length === 0) throw new Error(`${name}: setTimesteps must be called before stepping`);
  const expected = timesteps[index];
  if (expected === undefined) throw new Error(`${name}: all ${timesteps.length} timesteps have already been stepped`);
  if (!(Math.abs(timestep - expected) <= 2 ** -10 * Math.max(1, Math.abs(expected)))) {
    throw new Error(`${name}: expected timestep ${expected} (step ${index + 1} of ${timesteps.length}), got ${timestep}`);
  }
}

/**
 * State and plumbing common to the sigma schedulers: the config, the training sigmas, the current
 * schedule, the step index, `init_noise_sigma` and the input scaling. Subclasses supply `step`, and
 * adjust `setTimesteps` where diffusers does.
 */
export abstract class SigmaSchedulerBase<C extends BaseSchedulerConfig> {
  abstract readonly name: SchedulerName;
  /** float32 timesteps for the UNet, as diffusers' `scheduler.timesteps`. */
  timesteps: readonly number[] = [];
  /** float32 sigmas, as diffusers' `scheduler.sigmas` (one more entry than `timesteps`). */
  sigmas: readonly number[] = [];
  initNoiseSigma: number;
  readonly order: number = 1;
  protected stepIndex = 0;
  /** Set by img2img (`set_begin_index`); null runs from the first timestep. */
  protected beginIndex: number | null = null;
  protected readonly trainSigmas: Float64Array;
  private readonly sigmaKind: SigmaKind;

  protected constructor(readonly config: C) {
    this.sigmaKind = sigmaKindFromFlags(config);
    this.trainSigmas = vpSigmas(sigmaSchedulerAlphasCumprod(config));
    // Before set_timesteps diffusers' schedule spans every training timestep, so its largest sigma is
    // the last training sigma; pipelines normally read init_noise_sigma after set_timesteps anyway.
    this.initNoiseSigma = initNoiseSigmaFor([this.trainSigmas[this.trainSigmas.length - 1]!], config.timestep_spacing);
  }

  setTimesteps(numInferenceSteps: number): void {
    const { timesteps, sigmas } = this.buildSchedule(numInferenceSteps);
    this.applySchedule(timesteps, sigmas);
  }

  /** `buildSigmaSchedule` with the config's spacing and sigma kind; `options` adds or overrides. */
  protected buildSchedule(numInferenceSteps: number, options: Partial<SigmaScheduleOptions> = {}): SigmaSchedule {
    return buildSigmaSchedule(this.trainSigmas, numInferenceSteps, {
      timestepSpacing: this.config.timestep_spacing,
      stepsOffset: this.config.steps_offset,
      sigmaKind: this.sigmaKind,
      ...options,
    });
  }

  /** Installs a freshly built schedule and restarts the generation at its first step. */
  protected applySchedule(timesteps: readonly number[], sigmas: readonly number[]): void {
    this.timesteps = timesteps;
    this.sigmas = sigmas;
    this.stepIndex = 0;
    this.beginIndex = null;
    this.initNoiseSigma = initNoiseSigmaFor(sigmas, this.config.timestep_spacing);
  }

  setBeginIndex(index: number): void {
    requireScheduleIndex(this.name, this.timesteps, index);
    this.beginIndex = index;
    this.stepIndex = index;
  }

  /** The sigma schedulers' `add_noise`: x0 + ε·sigma at the begin index (else at the timestep's index). */
  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    if (noise.length !== original.length) throw new RangeError(`${this.name}: noise has ${noise.length} values, the sample has ${original.length}`);
    const sigma = this.sigmas[this.beginIndex ?? indexForTimestep(this.timesteps, timestep)]!;
    const out = new Float32Array(original.length);
    for (let i = 0; i < out.length; i++) out[i] = original[i]! + f32(noise[i]! * sigma);
    return out;
  }

  scaleModelInput(sample: Float32Array, timestep: number): Float32Array {
    checkTimestep(this.name, this.timesteps, this.stepIndex, timestep);
    return scaleBySigma(sample, this.sigmas[this.stepIndex]!);
  }

  /** Validates the call against the schedule and returns the index of the step being taken. */
  protected beginStep(modelOutput: Float32Array, timestep: number, sample: Float32Array): number {
    checkTimestep(this.name, this.timesteps, this.stepIndex, timestep);
    if (modelOutput.length !== sample.length) {
      throw new RangeError(`${this.name}: model output has ${modelOutput.length} values, sample has ${sample.length}`);
    }
    return this.stepIndex;
  }
}
