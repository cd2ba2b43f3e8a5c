/**
 * Shared test helpers for the scheduler ports: the reference recipe of
 * test/reference/schedulers.json, error measures, schedule sanity checks, the dummy model /
 * sample of diffusers' own scheduler unit tests (tests/schedulers/test_schedulers.py), and the suite
 * of checks every scheduler that feeds the UNet its latents unscaled shares.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { TorchGenerator } from '../../src/engine/random/torch-generator.ts';
import type { RawSchedulerConfig, Scheduler } from '../../src/engine/schedulers/scheduler.ts';
import { sigmaToAlphaSigmaT } from '../../src/engine/schedulers/sigma-math.ts';

const f = Math.fround;

export interface SchedulerReferenceCase {
  diffusers_class: string;
  extra_config: Record<string, unknown>;
  timesteps: number[];
  sigmas: number[] | null;
  init_noise_sigma: number;
  scaled_model_input_first4: number[][];
  latents_after_each_step: number[][];
}

export interface SchedulerReferenceFile {
  about: string;
  /** The SD 1.5 scheduler_config.json every case starts from. */
  config: Record<string, unknown>;
  schedulers: Record<string, SchedulerReferenceCase>;
}

let cached: SchedulerReferenceFile | undefined;

export function loadSchedulerReference(): SchedulerReferenceFile {
  cached ??= JSON.parse(
    readFileSync(new URL('../reference/schedulers.json', import.meta.url), 'utf8'),
  ) as SchedulerReferenceFile;
  return cached;
}

/** The reference case for `key` and the raw config (SD 1.5 + extra_config) its scheduler was built from. */
export function referenceCase(key: string): { ref: SchedulerReferenceCase; rawConfig: Record<string, unknown> } {
  const file = loadSchedulerReference();
  const ref = file.schedulers[key];
  if (ref === undefined) throw new Error(`no reference case "${key}" in test/reference/schedulers.json`);
  return { ref, rawConfig: { ...file.config, ...ref.extra_config } };
}

/** A stand-in UNet: gets the scaled model input, the timestep and the index of the call. */
export type ModelFn = (scaledInput: Float32Array, timestep: number, callIndex: number) => Float32Array;

/** The reference recipe's model: `0.5 * tanh(scale_model_input(x, t))` in float32. */
export const tanhModel: ModelFn = (x) => {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = 0.5 * f(Math.tanh(x[i]!));
  return out;
};

export interface RecipeRun {
  timesteps: number[];
  initNoiseSigma: number;
  /** First 4 values of scale_model_input at each call. */
  scaledFirst4: number[][];
  /** Latents after each step. */
  latents: Float32Array[];
  predOriginal: Float32Array[];
}

/**
 * The reference recipe: set_timesteps(steps); x = randn(count) * init_noise_sigma from
 * TorchGenerator(seed); for each timestep, x = step(model(scale_model_input(x, t)), t, x) with the
 * same generator, so ancestral noise comes from the stream that produced the initial latents.
 */
export function runRecipe(
  scheduler: Scheduler,
  { steps = 10, seed = 0, count = 64, model = tanhModel }: { steps?: number; seed?: number; count?: number; model?: ModelFn } = {},
): RecipeRun {
  const generator = new TorchGenerator(seed);
  scheduler.setTimesteps(steps);
  const sigma = f(scheduler.initNoiseSigma);
  let x: Float32Array = generator.randn(count).map((v) => v * sigma);
  const run: RecipeRun = {
    timesteps: [...scheduler.timesteps],
    initNoiseSigma: scheduler.initNoiseSigma,
    scaledFirst4: [],
    latents: [],
    predOriginal: [],
  };
  scheduler.timesteps.forEach((t, i) => {
    const scaled = scheduler.scaleModelInput(x, t);
    run.scaledFirst4.push(Array.from(scaled.subarray(0, 4)));
    const out = scheduler.step(model(scaled, t, i), t, x, generator);
    x = out.prevSample;
    run.latents.push(x);
    run.predOriginal.push(out.predOriginalSample);
  });
  return run;
}

/**
 * Relative error of `actual` against `expected`: max |a - e| over max |e|, the denominator floored
 * at 1e-3 so that near-zero references do not inflate it. NaN / length mismatch count as infinite.
 */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i]! - expected[i]!);
    if (Number.isNaN(diff)) return Number.POSITIVE_INFINITY;
    maxDiff = Math.max(maxDiff, diff);
    maxRef = Math.max(maxRef, Math.abs(expected[i]!));
  }
  return maxDiff / Math.max(maxRef, 1e-3);
}

/** Worst per-step relative error of a trajectory (and of its scaled inputs) against the reference. */
export function trajectoryError(run: RecipeRun, ref: SchedulerReferenceCase): { latents: number; scaledInputs: number } {
  expect(run.latents.length).toBe(ref.latents_after_each_step.length);
  let latents = 0;
  let scaledInputs = 0;
  ref.latents_after_each_step.forEach((expected, i) => {
    latents = Math.max(latents, relativeError(run.latents[i]!, expected));
    scaledInputs = Math.max(scaledInputs, relativeError(run.scaledFirst4[i]!, ref.scaled_model_input_first4[i]!));
  });
  return { latents, scaledInputs };
}

/** Asserts timesteps, init_noise_sigma and (where given) sigmas against a reference case. */
export function expectScheduleMatches(scheduler: Scheduler & { sigmas?: readonly number[] }, ref: SchedulerReferenceCase): void {
  expect([...scheduler.timesteps]).toEqual(ref.timesteps);
  expect(relativeError([scheduler.initNoiseSigma], [ref.init_noise_sigma])).toBeLessThan(1e-6);
  if (ref.sigmas !== null) {
    expect(scheduler.sigmas).toBeDefined();
    expect(relativeError(scheduler.sigmas!, ref.sigmas)).toBeLessThan(1e-6);
  }
}

/**
 * A schedule of `steps` steps is usable: the expected number of timesteps, integers in the training
 * range, strictly descending except for the pairs listed in `repeats` (positions i with t[i] == t[i-1]),
 * and a full generation over it gives finite latents.
 */
export interface ValidRunOptions {
  expectedCount?: number;
  repeats?: number[];
  trainSteps?: number;
}

export function expectValidRun(scheduler: Scheduler, steps: number, { expectedCount = steps, repeats = [], trainSteps = 1000 }: ValidRunOptions = {}): void {
  const run = runRecipe(scheduler, { steps, count: 64 });
  const t = run.timesteps;
  expect(t.length).toBe(expectedCount);
  for (let i = 0; i < t.length; i++) {
    expect(Number.isInteger(t[i])).toBe(true);
    expect(t[i]).toBeGreaterThanOrEqual(0);
    expect(t[i]).toBeLessThan(trainSteps);
    if (i === 0) continue;
    if (repeats.includes(i)) expect(t[i]).toBe(t[i - 1]);
    else expect(t[i]).toBeLessThan(t[i - 1]!);
  }
  for (const x of [...run.latents, ...run.predOriginal]) {
    expect(x.every(Number.isFinite)).toBe(true);
  }
}

/**
 * Wraps an ε-model as the v-prediction model that predicts exactly the same thing:
 * x0 = (x - σ_t·ε) / α_t and v = α_t·ε - σ_t·x0, where (α_t, σ_t) is what the scheduler itself
 * uses for that call (sqrt(ᾱ_t), sqrt(1 - ᾱ_t) for the DDPM family; the sigma-derived pair for
 * DPM-Solver / UniPC).
 */
export function vPredictionModel(
  epsModel: ModelFn,
  alphaSigma: (timestep: number, callIndex: number) => { alpha: number; sigma: number },
): ModelFn {
  return (x, t, i) => {
    const eps = epsModel(x, t, i);
    const { alpha, sigma } = alphaSigma(t, i);
    const out = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) {
      const x0 = (x[k]! - sigma * eps[k]!) / alpha;
      out[k] = alpha * eps[k]! - sigma * x0;
    }
    return out;
  };
}

/** (α_t, σ_t) = (sqrt(ᾱ_t), sqrt(1 - ᾱ_t)) from a scheduler's alphas_cumprod. */
export function vpAlphaSigma(alphasCumprod: Float64Array): (timestep: number) => { alpha: number; sigma: number } {
  return (t) => ({ alpha: Math.sqrt(alphasCumprod[t]!), sigma: Math.sqrt(1 - alphasCumprod[t]!) });
}

/**
 * (α_t, σ_t) a multistep solver (DPM-Solver, UniPC) uses at call i: from its own (possibly Karras)
 * sigma, not the rounded timestep.
 */
export function solverAlphaSigma(scheduler: { readonly sigmas: readonly number[] }): (timestep: number, callIndex: number) => { alpha: number; sigma: number } {
  return (_t, i) => {
    const { alphaT, sigmaT } = sigmaToAlphaSigmaT(scheduler.sigmas[i]!);
    return { alpha: alphaT, sigma: sigmaT };
  };
}

/** Worst relative error between two trajectories, step by step. */
export function trajectoryDifference(a: RecipeRun, b: RecipeRun): number {
  expect(a.latents.length).toBe(b.latents.length);
  let worst = 0;
  a.latents.forEach((x, i) => (worst = Math.max(worst, relativeError(x, b.latents[i]!))));
  return worst;
}

/**
 * diffusers' `dummy_sample_deter` (shape 4x3x8x8), flattened in logical row-major order: it is
 * arange(768) / 768 laid out as (3, 8, 8, 4) and permuted to (4, 3, 8, 8), so element [b, c, h, w]
 * holds (c·256 + h·32 + w·4 + b) / 768. The order matters wherever noise from the generator is added.
 */
export function diffusersDummySample(): Float32Array {
  const out = new Float32Array(768);
  for (let b = 0; b < 4; b++)
    for (let c = 0; c < 3; c++)
      for (let h = 0; h < 8; h++)
        for (let w = 0; w < 8; w++) out[b * 192 + c * 64 + h * 8 + w] = (c * 256 + h * 32 + w * 4 + b) / 768;
  return out;
}

/** diffusers' `dummy_model`: sample * t / (t + 1), in float32. */
export const diffusersDummyModel: ModelFn = (x, t) => {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]! * t) / (t + 1);
  return out;
};

/**
 * diffusers' `full_loop` of its scheduler unit tests: dummy sample, dummy model, every timestep in
 * order, generator torch.manual_seed(0). Returns mean |x| and sum |x| of the final sample.
 */
export function diffusersFullLoop(scheduler: Scheduler, steps: number): { mean: number; sum: number } {
  const generator = new TorchGenerator(0);
  scheduler.setTimesteps(steps);
  let x: Float32Array = diffusersDummySample();
  for (const t of scheduler.timesteps) {
    x = scheduler.step(diffusersDummyModel(scheduler.scaleModelInput(x, t), t, 0), t, x, generator).prevSample;
  }
  let sum = 0;
  for (const v of x) sum += Math.abs(v);
  return { mean: sum / x.length, sum };
}

/**
 * Asserts diffusers' unit-test `full_loop` result: sum |x| within 1e-2 (where its test checks the sum)
 * and mean |x| within 1e-3.
 */
export function expectFullLoop(scheduler: Scheduler, steps: number, expected: { sum?: number; mean: number }): void {
  const result = diffusersFullLoop(scheduler, steps);
  if (expected.sum !== undefined) expect(Math.abs(result.sum - expected.sum)).toBeLessThan(1e-2);
  expect(Math.abs(result.mean - expected.mean)).toBeLessThan(1e-3);
}

export interface SchedulerSuiteOptions<S extends Scheduler> {
  /** `from_config`: the class defaults, and the values the SD 1.5 config should leave (or set) for some keys. */
  defaults?: { all: object; fromSd: Record<string, unknown> };
  /**
   * (α_t, σ_t) the scheduler itself uses at a call, for the v-prediction twin of the reference model;
   * left out where an equivalent v-model does not reproduce the ε trajectory (PNDM) or the file checks more.
   */
  vAlphaSigma?: (scheduler: S) => (timestep: number, callIndex: number) => { alpha: number; sigma: number };
  /** The step-count sweep: counts, the test name, and what `expectValidRun` should expect for a count. */
  sweep?: { counts?: readonly number[]; name?: string; expect?: (steps: number) => ValidRunOptions };
  /** Also check that a second `setTimesteps` on the same instance restarts the generation exactly. */
  restarts?: boolean;
}

/**
 * The checks every scheduler that feeds the UNet its latents unscaled shares (DDIM, DDPM, PNDM, LCM,
 * DPM-Solver, UniPC): diffusers' reference schedule and trajectory for reference case `key` (whose
 * scheduler is named `key` too), from_config defaults, the v-prediction twin, a step-count sweep and,
 * optionally, restarts. The sigma schedulers have their own suite (sigma-helpers.ts).
 */
export function schedulerSuite<S extends Scheduler>(key: string, create: (raw: RawSchedulerConfig) => S, options: SchedulerSuiteOptions<S> = {}): void {
  const { ref, rawConfig } = referenceCase(key);

  it('builds the reference schedule from the SD 1.5 config', () => {
    const scheduler = create(rawConfig);
    scheduler.setTimesteps(10);
    expectScheduleMatches(scheduler, ref);
    expect(scheduler.name).toBe(key);
  });

  it('reproduces the reference trajectory within 1e-4 relative', () => {
    const error = trajectoryError(runRecipe(create(rawConfig)), ref);
    expect(error.latents).toBeLessThan(1e-4);
    expect(error.scaledInputs).toBeLessThan(1e-4);
  });

  const { defaults } = options;
  if (defaults !== undefined) {
    it('takes its own defaults for keys the config leaves out (from_config)', () => {
      const configOf = (raw: RawSchedulerConfig): Record<string, unknown> => (create(raw) as unknown as { config: Record<string, unknown> }).config;
      const fromSd = configOf(rawConfig);
      for (const [name, value] of Object.entries(defaults.fromSd)) {
        if (typeof value === 'object' && value !== null) expect(fromSd[name], name).toEqual(value);
        else expect(fromSd[name], name).toBe(value);
      }
      expect(configOf({})).toEqual(defaults.all);
      // Keys the class does not know (other classes' options, diffusers' bookkeeping) are ignored.
      expect(configOf({ ...rawConfig, some_future_key: 3, _class_name: 'PNDMScheduler' })).toEqual(fromSd);
    });
  }

  const { vAlphaSigma } = options;
  if (vAlphaSigma !== undefined) {
    it('a v-prediction model equivalent to the epsilon model gives the same trajectory', () => {
      const eps = runRecipe(create(rawConfig));
      const scheduler = create({ ...rawConfig, prediction_type: 'v_prediction' });
      const v = runRecipe(scheduler, { model: vPredictionModel(tanhModel, vAlphaSigma(scheduler)) });
      expect(trajectoryDifference(v, eps)).toBeLessThan(1e-4);
    });
  }

  const { counts = [1, 2, 7, 25, 50, 150], name = 'runs %i steps', expect: expectFor } = options.sweep ?? {};
  it.each(counts)(name, (steps) => {
    expectValidRun(create(rawConfig), steps, expectFor?.(steps));
  });

  if (options.restarts === true) {
    it('restarts cleanly when setTimesteps is called again', () => {
      const scheduler = create(rawConfig);
      const first = runRecipe(scheduler);
      expect(trajectoryDifference(runRecipe(scheduler), first)).toBe(0);
    });
  }
}
