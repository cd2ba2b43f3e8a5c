import { describe, expect, it } from 'vitest';
import { createLCMScheduler, LCM_DEFAULTS, LCMScheduler } from '../../src/engine/schedulers/lcm.ts';
import {
  diffusersFullLoop,
  expectScheduleMatches,
  expectValidRun,
  referenceCase,
  runRecipe,
  tanhModel,
  trajectoryDifference,
  trajectoryError,
  vPredictionModel,
  vpAlphaSigma,
} from './helpers.ts';

const { ref, rawConfig } = referenceCase('lcm');

describe('LCMScheduler matches diffusers 0.32 LCMScheduler', () => {
  it('builds the reference schedule from the SD 1.5 config', () => {
    const scheduler = createLCMScheduler(rawConfig);
    scheduler.setTimesteps(10);
    expectScheduleMatches(scheduler, ref);
    expect(scheduler.name).toBe('lcm');
  });

  it('reproduces the reference trajectory (noise between steps) within 1e-4 relative', () => {
    const error = trajectoryError(runRecipe(createLCMScheduler(rawConfig)), ref);
    expect(error.latents).toBeLessThan(1e-4);
    expect(error.scaledInputs).toBeLessThan(1e-4);
  });

  it('takes its own defaults for keys the config leaves out (from_config)', () => {
    const fromSd = new LCMScheduler(rawConfig);
    expect(fromSd.config.original_inference_steps).toBe(50);
    expect(fromSd.config.timestep_scaling).toBe(10);
    expect(fromSd.config.set_alpha_to_one).toBe(false);
    expect(new LCMScheduler({}).config).toEqual(LCM_DEFAULTS);
  });

  // Expected values from diffusers' tests/schedulers/test_scheduler_lcm.py (full_loop, seed 0).
  it.each([
    [1, 18.7097, 0.0244],
    [10, 197.7616, 0.2575],
  ])('matches diffusers unit-test full loop with %i steps', (steps, sum, mean) => {
    const config = { num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', prediction_type: 'epsilon' };
    const result = diffusersFullLoop(createLCMScheduler(config), steps);
    expect(Math.abs(result.sum - sum)).toBeLessThan(1e-2);
    expect(Math.abs(result.mean - mean)).toBeLessThan(1e-3);
  });

  it('a v-prediction model equivalent to the epsilon model gives the same trajectory', () => {
    const eps = runRecipe(createLCMScheduler(rawConfig));
    const scheduler = new LCMScheduler({ ...rawConfig, prediction_type: 'v_prediction' });
    const v = runRecipe(scheduler, { model: vPredictionModel(tanhModel, vpAlphaSigma(scheduler.alphasCumprod)) });
    expect(trajectoryDifference(v, eps)).toBeLessThan(1e-4);
  });

  it.each([1, 2, 4, 7, 25, 50])('runs %i steps', (steps) => {
    expectValidRun(createLCMScheduler(rawConfig), steps);
  });

  it('refuses more steps than original_inference_steps, as diffusers does', () => {
    expect(() => createLCMScheduler(rawConfig).setTimesteps(150)).toThrow(/original_inference_steps \(50\)/);
    expectValidRun(createLCMScheduler({ ...rawConfig, original_inference_steps: 150 }), 150);
  });


  it('rejects invalid configs with clear errors', () => {
    expect(() => createLCMScheduler({ beta_schedule: 'foo' })).toThrow(/beta_schedule "foo"/);
    expect(() => createLCMScheduler({ prediction_type: 'flow' })).toThrow(/prediction_type "flow"/);
    expect(() => createLCMScheduler({ original_inference_steps: 0 })).toThrow(/original_inference_steps/);
    expect(() => createLCMScheduler({ thresholding: true })).toThrow(/thresholding/);
  });
});
