import { describe, expect, it } from 'vitest';
import { createDDIMScheduler, DDIM_DEFAULTS, DDIMScheduler } from '../../src/engine/schedulers/ddim.ts';
import { expectFullLoop, expectValidRun, referenceCase, schedulerSuite, vpAlphaSigma } from './helpers.ts';

const { rawConfig } = referenceCase('ddim');

describe('DDIMScheduler matches diffusers 0.32 DDIMScheduler (eta = 0)', () => {
  schedulerSuite('ddim', (raw) => createDDIMScheduler(raw) as DDIMScheduler, {
    defaults: { all: DDIM_DEFAULTS, fromSd: { clip_sample: false, timestep_spacing: 'leading', beta_schedule: 'scaled_linear' } },
    vAlphaSigma: (scheduler) => vpAlphaSigma(scheduler.alphasCumprod),
    restarts: true,
  });

  // Expected values from diffusers' tests/schedulers/test_scheduler_ddim.py (full_loop).
  it.each([
    [{}, 172.0067, 0.223967],
    [{ prediction_type: 'v_prediction' }, 52.5302, 0.0684],
    [{ set_alpha_to_one: true, beta_start: 0.01 }, 149.8295, 0.1951],
    [{ set_alpha_to_one: false, beta_start: 0.01 }, 149.0784, 0.1941],
  ])('matches diffusers unit-test full loop %o', (extra, sum, mean) => {
    const config = { num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', clip_sample: true, ...extra };
    expectFullLoop(createDDIMScheduler(config), 10, { sum, mean });
  });

  it('steps 5 with steps_offset 1 give diffusers timesteps', () => {
    const scheduler = createDDIMScheduler({ steps_offset: 1 });
    scheduler.setTimesteps(5);
    expect(scheduler.timesteps).toEqual([801, 601, 401, 201, 1]);
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
