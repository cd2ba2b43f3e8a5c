/**
 * diffusers' `PNDMScheduler` (Liu et al. 2022, pseudo numerical methods): a Runge-Kutta warm-up
 * (PRK) followed by a 4th-order linear multistep method (PLMS) over past model outputs. SD configs set
 * `skip_prk_steps`, which replaces the warm-up with one repeated timestep and lower-order PLMS steps.
 */
import type { TorchGenerator } from '../random/torch-generator.ts';
import type { BaseSchedulerConfig } from './config.ts';
import { TRAINING_SCHEDULE_DEFAULTS } from './config.ts';
import { schedulerAlphasCumprod } from './noise-schedule.ts';
import type { RawSchedulerConfig, Scheduler, SchedulerStepOutput } from './scheduler.ts';
import {
  alphaAt,
  alphaProducts,
  alphaSigmaOf,
  modelOutputToEpsilon,
  modelOutputToX0,
  readSchedulerConfig,
  requireTimestepsInRange,
  UnscaledInputScheduler,
  validateStepCount,
  validIntegerTimesteps,
} from './scheduler-support.ts';

const f = Math.fround;
const PNDM_ORDER = 4;
const SIXTH = f(1 / 6);
const THIRD = f(1 / 3);
const TWENTY_FOURTH = f(1 / 24);

export interface PNDMConfig extends BaseSchedulerConfig {
  skip_prk_steps: boolean;
  set_alpha_to_one: boolean;
}

/** `PNDMScheduler.__init__` defaults (diffusers 0.32). */
export const PNDM_DEFAULTS: Readonly<PNDMConfig> = {
  ...TRAINING_SCHEDULE_DEFAULTS,
  skip_prk_steps: false,
  set_alpha_to_one: false,
  prediction_type: 'epsilon',
  timestep_spacing: 'leading',
  steps_offset: 0,
};

export class PNDMScheduler extends UnscaledInputScheduler<PNDMConfig> implements Scheduler {
  readonly name = 'pndm';
  private readonly finalAlphaCumprod: number;
  private numInferenceSteps = 0;
  private prkTimesteps: number[] = [];

  // Per-generation state, reset by setTimesteps.
  /** Past raw model outputs (at most 4), oldest first. */
  private ets: Float32Array[] = [];
  private counter = 0;
  private curSample: Float32Array | null = null;
  /** Runge-Kutta accumulator; null stands for diffusers' initial scalar 0. */
  private curModelOutput: Float32Array | null = null;

  constructor(raw: RawSchedulerConfig) {
    // diffusers' PNDM has no `sample` branch: it raises on anything but these two.
    const config = readSchedulerConfig('PNDMScheduler', raw, PNDM_DEFAULTS, { predictionTypes: ['epsilon', 'v_prediction'] });
    super('PNDMScheduler', config, schedulerAlphasCumprod(config));
    this.finalAlphaCumprod = config.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
  }

  setTimesteps(numInferenceSteps: number): void {
    validateStepCount(numInferenceSteps);
    const { skip_prk_steps: skipPrk, num_train_timesteps: trainSteps } = this.config;
    if (!skipPrk && numInferenceSteps < PNDM_ORDER) {
      // diffusers 0.32 fails here with a numpy broadcasting error; later versions raise this.
      throw new RangeError(`PNDMScheduler: steps must be >= ${PNDM_ORDER} when skip_prk_steps is false, got ${numInferenceSteps}`);
    }
    const ascending = validIntegerTimesteps(this.className, this.config, numInferenceSteps).reverse();
    let prk: number[];
    let plms: number[];
    if (skipPrk) {
      // The first PLMS step is computed twice (at t and again at t - stride) to seed a 2nd-order
      // estimate, hence the repeated second timestep: [901, 801, 801, 701, ...].
      prk = [];
      plms = [...ascending.slice(0, -1), ...ascending.slice(-2, -1), ...ascending.slice(-1)].reverse();
    } else {
      // Four RK4 evaluations per warm-up step: at t, twice at the half step t - stride/2, and at t - stride.
      const half = Math.floor(Math.floor(trainSteps / numInferenceSteps) / 2);
      const pairs: number[] = [];
      for (const t of ascending.slice(-PNDM_ORDER)) pairs.push(t, t + half);
      const doubled: number[] = [];
      for (const t of pairs.slice(0, -1)) doubled.push(t, t);
      prk = doubled.slice(1, -1).reverse();
      plms = ascending.slice(0, -3).reverse();
    }
    const timesteps = [...prk, ...plms];
    // The warm-up's half steps t + stride / 2 can leave the training range where the spaced ones do not.
    requireTimestepsInRange(this.className, timesteps, trainSteps, numInferenceSteps, this.config.timestep_spacing);
    this.numInferenceSteps = numInferenceSteps;
    this.prkTimesteps = prk;
    this.schedule = timesteps;
    this.ets = [];
    this.counter = 0;
    this.curSample = null;
    this.curModelOutput = null;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _generator: TorchGenerator): SchedulerStepOutput {
    this.checkStep(modelOutput, sample);
    const predOriginalSample = this.estimateX0(modelOutput, timestep, sample);
    const prevSample =
      this.counter < this.prkTimesteps.length && !this.config.skip_prk_steps
        ? this.stepPrk(modelOutput, timestep, sample)
        : this.stepPlms(modelOutput, timestep, sample);
    return { prevSample, predOriginalSample };
  }

  private stepPrk(modelOutput: Float32Array, timestep: number, sample: Float32Array): Float32Array {
    const stride = Math.floor(this.config.num_train_timesteps / this.numInferenceSteps);
    const diffToPrev = this.counter % 2 ? 0 : Math.floor(stride / 2);
    const prevTimestep = timestep - diffToPrev;
    // All four evaluations of one RK step start from the same sample and timestep.
    const baseTimestep = this.prkTimesteps[Math.floor(this.counter / 4) * 4]!;
    const n = modelOutput.length;
    const phase = this.counter % 4;
    let combined: Float32Array = modelOutput;
    if (phase === 0) {
      this.curModelOutput = scaledCopy(modelOutput, SIXTH, null);
      this.ets.push(modelOutput.slice());
      this.curSample = sample.slice();
    } else if (phase === 1 || phase === 2) {
      this.curModelOutput = scaledCopy(modelOutput, THIRD, this.curModelOutput);
    } else {
      combined = scaledCopy(modelOutput, SIXTH, this.curModelOutput);
      this.curModelOutput = null;
    }
    const from = this.curSample ?? sample;
    const prev = this.prevSample(from, baseTimestep, prevTimestep, combined, n);
    this.counter++;
    return prev;
  }

  private stepPlms(modelOutput: Float32Array, timestep: number, sample: Float32Array): Float32Array {
    if (!this.config.skip_prk_steps && this.ets.length < 3) {
      throw new Error('PNDMScheduler: PLMS needs three Runge-Kutta steps first; step through `timesteps` in order');
    }
    const stride = Math.floor(this.config.num_train_timesteps / this.numInferenceSteps);
    let prevTimestep = timestep - stride;
    let fromTimestep = timestep;
    if (this.counter !== 1) {
      if (this.ets.length > 3) this.ets.shift();
      this.ets.push(modelOutput.slice());
    } else {
      // The repeated timestep: redo the step from t + stride with the average of both outputs.
      prevTimestep = timestep;
      fromTimestep = timestep + stride;
    }

    const n = modelOutput.length;
    const ets = this.ets;
    const combined = new Float32Array(n);
    let from = sample;
    if (ets.length === 1 && this.counter === 0) {
      combined.set(modelOutput);
      this.curSample = sample.slice();
    } else if (ets.length === 1 && this.counter === 1) {
      const e1 = ets[0]!;
      for (let i = 0; i < n; i++) combined[i] = f(modelOutput[i]! + e1[i]!) / 2;
      from = this.curSample!;
      this.curSample = null;
    } else if (ets.length === 2) {
      const [e2, e1] = ets as [Float32Array, Float32Array];
      for (let i = 0; i < n; i++) combined[i] = f(f(3 * e1[i]!) - e2[i]!) / 2;
    } else if (ets.length === 3) {
      const [e3, e2, e1] = ets as [Float32Array, Float32Array, Float32Array];
      for (let i = 0; i < n; i++) combined[i] = f(f(f(23 * e1[i]!) - f(16 * e2[i]!)) + f(5 * e3[i]!)) / 12;
    } else {
      const [e4, e3, e2, e1] = ets as [Float32Array, Float32Array, Float32Array, Float32Array];
      for (let i = 0; i < n; i++) {
        combined[i] = TWENTY_FOURTH * f(f(f(f(55 * e1[i]!) - f(59 * e2[i]!)) + f(37 * e3[i]!)) - f(9 * e4[i]!));
      }
    }
    const prev = this.prevSample(from, fromTimestep, prevTimestep, combined, n);
    this.counter++;
    return prev;
  }

  /**
   * `_get_prev_sample`, formula (9) of the PNDM paper. The v → ε conversion happens here, on the
   * combined output and with `sample` / `timestep` of this call, exactly where diffusers does it.
   */
  private prevSample(sample: Float32Array, timestep: number, prevTimestep: number, modelOutput: Float32Array, n: number): Float32Array {
    const { alphaProd, alphaProdPrev } = alphaProducts(this.alphasCumprod, timestep, prevTimestep, this.finalAlphaCumprod);
    const betaProd = f(1 - alphaProd);
    const betaProdPrev = f(1 - alphaProdPrev);
    const sampleCoeff = f(Math.sqrt(f(alphaProdPrev / alphaProd)));
    const denom = f(f(alphaProd * f(Math.sqrt(betaProdPrev))) + f(Math.sqrt(f(f(alphaProd * betaProd) * alphaProdPrev))));
    const alphaDiff = f(alphaProdPrev - alphaProd);
    const eps = modelOutputToEpsilon(this.config.prediction_type, modelOutput, sample, alphaSigmaOf(alphaProd));
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = f(sampleCoeff * sample[i]!) - f(f(alphaDiff * eps[i]!) / denom);
    return out;
  }

  /** Preview-only x0 estimate: diffusers' PNDM exposes none, so use ᾱ of the timestep given. */
  private estimateX0(modelOutput: Float32Array, timestep: number, sample: Float32Array): Float32Array {
    return modelOutputToX0(this.config.prediction_type, modelOutput, sample, alphaSigmaOf(alphaAt(this.alphasCumprod, timestep)));
  }
}

/** `acc + scale * x` in float32 (a fresh array); `acc` null stands for the scalar 0. */
function scaledCopy(x: Float32Array, scale: number, acc: Float32Array | null): Float32Array {
  const out = new Float32Array(x.length);
  if (acc === null) for (let i = 0; i < x.length; i++) out[i] = scale * x[i]!;
  else for (let i = 0; i < x.length; i++) out[i] = acc[i]! + f(scale * x[i]!);
  return out;
}

export const createPNDMScheduler = (raw: RawSchedulerConfig): Scheduler => new PNDMScheduler(raw);
