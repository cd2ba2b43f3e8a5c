import { describe, expect, it } from 'vitest';
import { createDDPMScheduler, DDPM_DEFAULTS } from '../../src/engine/schedulers/ddpm.ts';
import type { DDPMScheduler } from '../../src/engine/schedulers/ddpm.ts';
import { expectFullLoop, expectValidRun, referenceCase, schedulerSuite, vpAlphaSigma } from './helpers.ts';

const { rawConfig } = referenceCase('ddpm');

describe('DDPMScheduler matches diffusers 0.32 DDPMScheduler', () => {
  // The reference trajectory draws its noise from the same generator as the initial latents.
  schedulerSuite('ddpm', (raw) => createDDPMScheduler(raw) as DDPMScheduler, {
    defaults: { all: DDPM_DEFAULTS, fromSd: { clip_sample: false, variance_type: 'fixed_small', timestep_spacing: 'leading' } },
    vAlphaSigma: (scheduler) => vpAlphaSigma(scheduler.alphasCumprod),
  });

  // Expected values from diffusers' tests/schedulers/test_scheduler_ddpm.py: all 1000 training
  // timesteps, generator torch.manual_seed(0) drawing noise at every t > 0.
  it.each([
    [{}, 258.9606, 0.3372],
    [{ prediction_type: 'v_prediction' }, 202.0296, 0.2631],
  ])('matches diffusers unit-test full loop %o', (extra, sum, mean) => {
    const config = { num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', variance_type: 'fixed_small', clip_sample: true, ...extra };
    expectFullLoop(createDDPMScheduler(config), 1000, { sum, mean });
  });

  it('other fixed variance types run', () => {
    for (const variance_type of ['fixed_small_log', 'fixed_large']) {
      expectValidRun(createDDPMScheduler({ ...rawConfig, variance_type }), 10);
    }
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
