import { describe, expect, it } from 'vitest';
import { createLCMScheduler, LCM_DEFAULTS } from '../../src/engine/schedulers/lcm.ts';
import type { LCMScheduler } from '../../src/engine/schedulers/lcm.ts';
import { expectFullLoop, expectValidRun, referenceCase, schedulerSuite, vpAlphaSigma } from './helpers.ts';

const { rawConfig } = referenceCase('lcm');

describe('LCMScheduler matches diffusers 0.32 LCMScheduler', () => {
  // The reference trajectory adds generator noise between steps.
  schedulerSuite('lcm', (raw) => createLCMScheduler(raw) as LCMScheduler, {
    defaults: { all: LCM_DEFAULTS, fromSd: { original_inference_steps: 50, timestep_scaling: 10, set_alpha_to_one: false } },
    vAlphaSigma: (scheduler) => vpAlphaSigma(scheduler.alphasCumprod),
    // At most original_inference_steps (50 for SD 1.5) steps; see below for more.
    sweep: { counts: [1, 2, 4, 7, 25, 50] },
  });

  // Expected values from diffusers' tests/schedulers/test_scheduler_lcm.py (full_loop, seed 0).
  it.each([
    [1, 18.7097, 0.0244],
    [10, 197.7616, 0.2575],
  ])('matches diffusers unit-test full loop with %i steps', (steps, sum, mean) => {
    const config = { num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', prediction_type: 'epsilon' };
    expectFullLoop(createLCMScheduler(config), steps, { sum, mean });
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
