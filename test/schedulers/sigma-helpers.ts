/**
 * Test suite pieces shared by the sigma-space schedulers (lms, euler, euler-a, heun), on top of the
 * generic scheduler helpers: the diffusers reference comparison, the v-prediction consistency check,
 * step-count sweeps (their timesteps are fractional, unlike the DDPM family's) and config errors.
 */
import { expect, it } from 'vitest';
import type { RawSchedulerConfig, Scheduler } from '../../src/engine/schedulers/scheduler.ts';
import {
  expectScheduleMatches,
  referenceCase,
  relativeError,
  runRecipe,
  tanhModel,
  trajectoryDifference,
  trajectoryError,
  vPredictionModel,
} from './helpers.ts';
import type { RecipeRun } from './helpers.ts';

export type SigmaScheduler = Scheduler & { readonly sigmas: readonly number[] };
export type SigmaFactory = (raw: RawSchedulerConfig) => SigmaScheduler;

/** Step counts every scheduler must handle. */
export const STEP_COUNTS = [1, 2, 7, 25, 50, 150];

/**
 * Element-wise relative error, max |a - e| / max(|e|, 1e-3): stricter than `relativeError` (which
 * normalises by the largest reference value), used to report the worst single latent.
 */
export function elementwiseError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i]! - expected[i]!) / Math.max(Math.abs(expected[i]!), 1e-3);
    if (Number.isNaN(err)) return Number.POSITIVE_INFINITY;
    worst = Math.max(worst, err);
  }
  return worst;
}

/**
 * The v-prediction twin of the reference model. For the sigma schedulers the model input is
 * x / sqrt(σ² + 1), i.e. variance-preserving with ᾱ = 1 / (σ² + 1), where σ is the sigma of the call
 * (`sigmas[callIndex]`, which is also the sigma Heun's corrector predicts with).
 */
export function sigmaVModel(scheduler: SigmaScheduler): ReturnType<typeof vPredictionModel> {
  return vPredictionModel(tanhModel, (_t, i) => {
    const sigma = scheduler.sigmas[i]!;
    const alpha = 1 / Math.sqrt(sigma * sigma + 1);
    return { alpha, sigma: sigma * alpha };
  });
}

/**
 * A full generation over `steps` steps is well formed: `expectedCount` timesteps, non-increasing
 * inside the training range, one more sigma than timesteps ending at 0, finite latents and x0s.
 */
export function expectValidSigmaRun(scheduler: SigmaScheduler, steps: number, expectedCount: number): RecipeRun {
  const run = runRecipe(scheduler, { steps });
  const t = run.timesteps;
  expect(t.length).toBe(expectedCount);
  expect(scheduler.sigmas.length).toBe(expectedCount + 1);
  expect(scheduler.sigmas[expectedCount]).toBe(0);
  for (let i = 0; i < t.length; i++) {
    expect(t[i]).toBeGreaterThanOrEqual(0);
    expect(t[i]).toBeLessThanOrEqual(999);
    expect(Math.fround(t[i]!)).toBe(t[i]);
    if (i > 0) expect(t[i]).toBeLessThanOrEqual(t[i - 1]!);
    expect(scheduler.sigmas[i]).toBeGreaterThan(0);
  }
  for (const x of [...run.latents, ...run.predOriginal]) expect(x.every(Number.isFinite)).toBe(true);
  return run;
}

/** Worst errors of a run against the reference, per measure. */
export function referenceErrors(run: RecipeRun, key: string): { vector: number; elementwise: number; scaledInputs: number } {
  const { ref } = referenceCase(key);
  const { latents, scaledInputs } = trajectoryError(run, ref);
  let elementwise = 0;
  ref.latents_after_each_step.forEach((expected, i) => (elementwise = Math.max(elementwise, elementwiseError(run.latents[i]!, expected))));
  ref.scaled_model_input_first4.forEach((expected, i) => (elementwise = Math.max(elementwise, elementwiseError(run.scaledFirst4[i]!, expected))));
  return { vector: latents, elementwise, scaledInputs };
}

/**
 * The checks every sigma scheduler shares: diffusers' reference trajectory, v-prediction consistency,
 * the step-count sweep for each spacing, and config errors. `countFor` maps steps to timesteps
 * (Heun runs each interval twice).
 */
export function sigmaSchedulerSuite(key: string, factory: SigmaFactory, countFor: (steps: number) => number = (n) => n): void {
  const { ref, rawConfig } = referenceCase(key);

  it('matches diffusers 0.32.2 timesteps, sigmas and init_noise_sigma for the SD 1.5 config', () => {
    const scheduler = factory(rawConfig);
    scheduler.setTimesteps(10);
    expectScheduleMatches(scheduler, ref);
  });

  it('follows the diffusers reference trajectory within 1e-4', () => {
    const errors = referenceErrors(runRecipe(factory(rawConfig)), key);
    // Measured (see the report): ~4e-7 relative, from a 1-ulp difference in the shared float32 betas.
    expect(errors.vector).toBeLessThan(1e-4);
    expect(errors.scaledInputs).toBeLessThan(1e-4);
    expect(errors.elementwise).toBeLessThan(1e-4);
  });

  it('gives the same trajectory for a v-prediction model that predicts the same thing', () => {
    const eps = runRecipe(factory(rawConfig));
    const vScheduler = factory({ ...rawConfig, prediction_type: 'v_prediction' });
    const v = runRecipe(vScheduler, { model: sigmaVModel(vScheduler) });
    expect(trajectoryDifference(v, eps)).toBeLessThan(1e-4);
    v.predOriginal.forEach((x0, i) => expect(relativeError(x0, eps.predOriginal[i]!)).toBeLessThan(1e-4));
  });

  for (const spacing of ['linspace', 'leading', 'trailing'] as const) {
    it(`runs every step count with timestep_spacing ${spacing}`, () => {
      for (const steps of STEP_COUNTS) {
        expectValidSigmaRun(factory({ ...rawConfig, timestep_spacing: spacing }), steps, countFor(steps));
      }
    });
  }

  it('restarts cleanly when setTimesteps is called again on the same instance', () => {
    const scheduler = factory(rawConfig);
    runRecipe(scheduler, { steps: 3 });
    const again = runRecipe(scheduler);
    expect(referenceErrors(again, key).vector).toBeLessThan(1e-4);
  });

  it('rejects invalid configs with errors that name the key', () => {
    expect(() => factory({ ...rawConfig, prediction_type: 'noise' })).toThrow(/prediction_type/);
    expect(() => factory({ ...rawConfig, timestep_spacing: 'uniform' })).toThrow(/timestep_spacing/);
    expect(() => factory({ ...rawConfig, beta_schedule: 'quadratic' })).toThrow(/beta_schedule/);
    expect(() => factory({ ...rawConfig, beta_start: '0.1' })).toThrow(/beta_start/);
    expect(() => factory({ ...rawConfig, trained_betas: [0.1, 0.2] })).toThrow(/trained_betas/);
  });

  it('rejects bad step counts and out-of-order calls', () => {
    const scheduler = factory(rawConfig);
    expect(() => scheduler.setTimesteps(0)).toThrow(RangeError);
    expect(() => scheduler.setTimesteps(2.5)).toThrow(RangeError);
    expect(() => scheduler.setTimesteps(1001)).toThrow(RangeError);
    scheduler.setTimesteps(5);
    const x = new Float32Array(64);
    // The second timestep before the first.
    expect(() => scheduler.scaleModelInput(x, scheduler.timesteps[1]! - 50)).toThrow(/expected timestep/);
  });
}
