import { describe, expect, it } from 'vitest';
import { createPNDMScheduler, PNDM_DEFAULTS, PNDMScheduler } from '../../src/engine/schedulers/pndm.ts';
import {
  diffusersFullLoop,
  expectScheduleMatches,
  expectValidRun,
  referenceCase,
  relativeError,
  runRecipe,
  tanhModel,
  trajectoryError,
  vPredictionModel,
  vpAlphaSigma,
} from './helpers.ts';

const { ref, rawConfig } = referenceCase('pndm');

describe('PNDMScheduler matches diffusers 0.32 PNDMScheduler', () => {
  it('builds the reference schedule (skip_prk_steps, repeated second timestep)', () => {
    const scheduler = createPNDMScheduler(rawConfig);
    scheduler.setTimesteps(10);
    expectScheduleMatches(scheduler, ref);
    expect(scheduler.name).toBe('pndm');
  });

  it('reproduces the reference trajectory within 1e-4 relative', () => {
    const error = trajectoryError(runRecipe(createPNDMScheduler(rawConfig)), ref);
    expect(error.latents).toBeLessThan(1e-4);
    expect(error.scaledInputs).toBeLessThan(1e-4);
  });

  it('takes its own defaults for keys the config leaves out (from_config)', () => {
    expect(new PNDMScheduler(rawConfig).config.skip_prk_steps).toBe(true);
    expect(new PNDMScheduler({}).config).toEqual(PNDM_DEFAULTS);
  });

  it('builds the Runge-Kutta warm-up schedule when skip_prk_steps is false', () => {
    // From diffusers' tests/schedulers/test_scheduler_pndm.py::test_steps_offset.
    const scheduler = createPNDMScheduler({ steps_offset: 1 });
    scheduler.setTimesteps(10);
    expect(scheduler.timesteps).toEqual([901, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601, 601, 501, 401, 301, 201, 101, 1]);
  });

  // Expected values from diffusers' tests/schedulers/test_scheduler_pndm.py (full_loop: PRK warm-up,
  // then PLMS). The v-prediction case pins diffusers' conversion of the *combined* output.
  it.each([
    [{}, 198.1318, 0.258],
    [{ prediction_type: 'v_prediction' }, 67.3986, 0.0878],
    [{ set_alpha_to_one: true, beta_start: 0.01 }, 230.0399, 0.2995],
    [{ set_alpha_to_one: false, beta_start: 0.01 }, 186.9482, 0.2434],
  ])('matches diffusers unit-test full loop %o', (extra, sum, mean) => {
    const config = { num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', ...extra };
    const result = diffusersFullLoop(createPNDMScheduler(config), 10);
    expect(Math.abs(result.sum - sum)).toBeLessThan(1e-2);
    expect(Math.abs(result.mean - mean)).toBeLessThan(1e-3);
  });

  it('v-prediction: the first step equals the epsilon run; later steps follow diffusers, not ε', () => {
    const eps = runRecipe(createPNDMScheduler(rawConfig));
    const scheduler = new PNDMScheduler({ ...rawConfig, prediction_type: 'v_prediction' });
    const v = runRecipe(scheduler, { model: vPredictionModel(tanhModel, vpAlphaSigma(scheduler.alphasCumprod)) });
    expect(relativeError(v.latents[0]!, eps.latents[0]!)).toBeLessThan(1e-4);
    expect(relativeError(v.predOriginal[0]!, eps.predOriginal[0]!)).toBeLessThan(1e-4);
    // diffusers combines past *v* outputs (and, on the repeated step, converts with the earlier
    // sample and timestep) before converting to ε, so an exactly equivalent v-model drifts from
    // the ε trajectory. This is diffusers' behaviour; the full-loop values above pin it.
    expect(relativeError(v.latents[1]!, eps.latents[1]!)).toBeGreaterThan(1e-4);
    expect(relativeError(v.latents.at(-1)!, eps.latents.at(-1)!)).toBeLessThan(0.25);
  });

  it.each([1, 2, 7, 25, 50, 150])('runs %i steps with skip_prk_steps', (steps) => {
    expectValidRun(createPNDMScheduler(rawConfig), steps, {
      expectedCount: steps === 1 ? 1 : steps + 1,
      repeats: steps === 1 ? [] : [2],
    });
  });

  it.each([4, 7, 25, 50, 150])('runs %i steps with the Runge-Kutta warm-up', (steps) => {
    expectValidRun(createPNDMScheduler({ ...rawConfig, skip_prk_steps: false }), steps, {
      expectedCount: steps + 9,
      repeats: [2, 4, 6, 8, 10, 12],
    });
  });


  it('rejects invalid configs and step counts with clear errors', () => {
    expect(() => createPNDMScheduler({ beta_schedule: 'foo' })).toThrow(/beta_schedule "foo"/);
    expect(() => createPNDMScheduler({ prediction_type: 'sample' })).toThrow(/prediction_type "sample"/);
    expect(() => createPNDMScheduler({ skip_prk_steps: false }).setTimesteps(3)).toThrow(/>= 4/);
  });
});
