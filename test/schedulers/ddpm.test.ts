import { describe, expect, it } from 'vitest';
import { createDDPMScheduler, DDPM_DEFAULTS, DDPMScheduler } from '../../src/engine/schedulers/ddpm.ts';
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

const { ref, rawConfig } = referenceCase('ddpm');

describe('DDPMScheduler matches diffusers 0.32 DDPMScheduler', () => {
  it('builds the reference schedule from the SD 1.5 config', () => {
    const scheduler = createDDPMScheduler(rawConfig);
    scheduler.setTimesteps(10);
    expectScheduleMatches(scheduler, ref);
    expect(scheduler.name).toBe('ddpm');
  });

  it('reproduces the reference trajectory (noise from the same generator) within 1e-4 relative', () => {
    const error = trajectoryError(runRecipe(createDDPMScheduler(rawConfig)), ref);
    expect(error.latents).toBeLessThan(1e-4);
    expect(error.scaledInputs).toBeLessThan(1e-4);
  });

  it('takes its own defaults for keys the config leaves out (from_config)', () => {
    const fromSd = new DDPMScheduler(rawConfig);
    expect(fromSd.config.clip_sample).toBe(false);
    expect(fromSd.config.variance_type).toBe('fixed_small');
    expect(fromSd.config.timestep_spacing).toBe('leading');
    expect(new DDPMScheduler({}).config).toEqual(DDPM_DEFAULTS);
  });

  // Expected values from diffusers' tests/schedulers/test_scheduler_ddpm.py: all 1000 training
  // timesteps, generator torch.manual_seed(0) drawing noise at every t > 0.
  it.each([
    [{}, 258.9606, 0.3372],
    [{ prediction_type: 'v_prediction' }, 202.0296, 0.2631],
  ])('matches diffusers unit-test full loop %o', (extra, sum, mean) => {
    const config = { num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', variance_type: 'fixed_small', clip_sample: true, ...extra };
    const result = diffusersFullLoop(createDDPMScheduler(config), 1000);
    expect(Math.abs(result.sum - sum)).toBeLessThan(1e-2);
    expect(Math.abs(result.mean - mean)).toBeLessThan(1e-3);
  });

  it('other fixed variance types run', () => {
    for (const variance_type of ['fixed_small_log', 'fixed_large']) {
      expectValidRun(createDDPMScheduler({ ...rawConfig, variance_type }), 10);
    }
  });

  it('a v-prediction model equivalent to the epsilon model gives the same trajectory', () => {
    const eps = runRecipe(createDDPMScheduler(rawConfig));
    const scheduler = new DDPMScheduler({ ...rawConfig, prediction_type: 'v_prediction' });
    const v = runRecipe(scheduler, { model: vPredictionModel(tanhModel, vpAlphaSigma(scheduler.alphasCumprod)) });
    expect(trajectoryDifference(v, eps)).toBeLessThan(1e-4);
  });

  it.each([1, 2, 7, 25, 50, 150])('runs %i steps', (steps) => {
    expectValidRun(createDDPMScheduler(rawConfig), steps);
  });


  it('rejects invalid configs with clear errors', () => {
    expect(() => createDDPMScheduler({ beta_schedule: 'foo' })).toThrow(/beta_schedule "foo"/);
    expect(() => createDDPMScheduler({ prediction_type: 'flow' })).toThrow(/prediction_type "flow"/);
    expect(() => createDDPMScheduler({ variance_type: 'huge' })).toThrow(/variance_type "huge"/);
    expect(() => createDDPMScheduler({ variance_type: 'learned_range' })).toThrow(/learned_range/);
    expect(() => createDDPMScheduler({ variance_type: 'fixed_large_log' })).toThrow(/NaN/);
    expect(() => createDDPMScheduler({ thresholding: true })).toThrow(/thresholding/);
    expect(() => createDDPMScheduler({ trained_betas: [0.1, 0.2] })).toThrow(/trained_betas/);
  });
});
