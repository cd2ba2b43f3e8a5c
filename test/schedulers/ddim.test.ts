import { describe, expect, it } from 'vitest';
import { createDDIMScheduler, DDIM_DEFAULTS, DDIMScheduler } from '../../src/engine/schedulers/ddim.ts';
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

const { ref, rawConfig } = referenceCase('ddim');

describe('DDIMScheduler matches diffusers 0.32 DDIMScheduler (eta = 0)', () => {
  it('builds the reference schedule from the SD 1.5 config', () => {
    const scheduler = createDDIMScheduler(rawConfig);
    scheduler.setTimesteps(10);
    expectScheduleMatches(scheduler, ref);
    expect(scheduler.name).toBe('ddim');
  });

  it('reproduces the reference trajectory within 1e-4 relative', () => {
    const error = trajectoryError(runRecipe(createDDIMScheduler(rawConfig)), ref);
    expect(error.latents).toBeLessThan(1e-4);
    expect(error.scaledInputs).toBeLessThan(1e-4);
  });

  it('takes its own defaults for keys the config leaves out (from_config)', () => {
    const fromSd = new DDIMScheduler(rawConfig);
    expect(fromSd.config.clip_sample).toBe(false);
    expect(fromSd.config.timestep_spacing).toBe('leading');
    expect(fromSd.config.beta_schedule).toBe('scaled_linear');
    expect(new DDIMScheduler({}).config).toEqual(DDIM_DEFAULTS);
    expect(new DDIMScheduler({ ...rawConfig, some_future_key: 3, _class_name: 'PNDMScheduler' }).config.clip_sample).toBe(false);
  });

  // Expected values from diffusers' tests/schedulers/test_scheduler_ddim.py (full_loop).
  it.each([
    [{}, 172.0067, 0.223967],
    [{ prediction_type: 'v_prediction' }, 52.5302, 0.0684],
    [{ set_alpha_to_one: true, beta_start: 0.01 }, 149.8295, 0.1951],
    [{ set_alpha_to_one: false, beta_start: 0.01 }, 149.0784, 0.1941],
  ])('matches diffusers unit-test full loop %o', (extra, sum, mean) => {
    const config = { num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', clip_sample: true, ...extra };
    const result = diffusersFullLoop(createDDIMScheduler(config), 10);
    expect(Math.abs(result.sum - sum)).toBeLessThan(1e-2);
    expect(Math.abs(result.mean - mean)).toBeLessThan(1e-3);
  });

  it('steps 5 with steps_offset 1 give diffusers timesteps', () => {
    const scheduler = createDDIMScheduler({ steps_offset: 1 });
    scheduler.setTimesteps(5);
    expect(scheduler.timesteps).toEqual([801, 601, 401, 201, 1]);
  });

  it('a v-prediction model equivalent to the epsilon model gives the same trajectory', () => {
    const eps = runRecipe(createDDIMScheduler(rawConfig));
    const scheduler = new DDIMScheduler({ ...rawConfig, prediction_type: 'v_prediction' });
    const v = runRecipe(scheduler, { model: vPredictionModel(tanhModel, vpAlphaSigma(scheduler.alphasCumprod)) });
    expect(trajectoryDifference(v, eps)).toBeLessThan(1e-4);
  });

  it.each([1, 2, 7, 25, 50, 150])('runs %i steps', (steps) => {
    expectValidRun(createDDIMScheduler(rawConfig), steps);
  });

  it('restarts cleanly when setTimesteps is called again', () => {
    const scheduler = createDDIMScheduler(rawConfig);
    const first = runRecipe(scheduler);
    expect(trajectoryDifference(runRecipe(scheduler), first)).toBe(0);
  });

  it('rescale_betas_zero_snr gives zero terminal SNR and keeps the first alpha', () => {
    const plain = new DDIMScheduler(rawConfig);
    const rescaled = new DDIMScheduler({ ...rawConfig, rescale_betas_zero_snr: true, timestep_spacing: 'trailing', prediction_type: 'v_prediction' });
    expect(rescaled.alphasCumprod[999]).toBe(0);
    expect(Math.abs(rescaled.alphasCumprod[0]! - plain.alphasCumprod[0]!)).toBeLessThan(1e-6);
    expectValidRun(rescaled, 25);
  });

  it('refuses the step counts for which diffusers trailing spacing yields timestep -1', () => {
    const scheduler = createDDIMScheduler({ timestep_spacing: 'trailing' });
    scheduler.setTimesteps(60);
    expect(scheduler.timesteps.at(-1)).toBe(16);
    expect(() => scheduler.setTimesteps(61)).toThrow(/timestep -1/);
  });


  it('rejects invalid configs with clear errors', () => {
    expect(() => createDDIMScheduler({ beta_schedule: 'foo' })).toThrow(/beta_schedule "foo"/);
    expect(() => createDDIMScheduler({ prediction_type: 'flow' })).toThrow(/prediction_type "flow"/);
    expect(() => createDDIMScheduler({ timestep_spacing: 'even' })).toThrow(/timestep_spacing "even"/);
    expect(() => createDDIMScheduler({ clip_sample: 'yes' })).toThrow(/clip_sample/);
    expect(() => createDDIMScheduler({ thresholding: true })).toThrow(/thresholding/);
    expect(() => createDDIMScheduler(rawConfig).setTimesteps(0)).toThrow(RangeError);
    expect(() => createDDIMScheduler(rawConfig).setTimesteps(1001)).toThrow(/cannot exceed/);
  });
});
