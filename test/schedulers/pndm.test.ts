import { describe, expect, it } from 'vitest';
import { createPNDMScheduler, PNDM_DEFAULTS, PNDMScheduler } from '../../src/engine/schedulers/pndm.ts';
import { expectFullLoop, expectValidRun, referenceCase, relativeError, runRecipe, schedulerSuite, tanhModel, vPredictionModel, vpAlphaSigma } from './helpers.ts';

const { rawConfig } = referenceCase('pndm');

describe('PNDMScheduler matches diffusers 0.32 PNDMScheduler', () => {
  // The SD 1.5 config sets skip_prk_steps: the reference schedule repeats its second timestep.
  schedulerSuite('pndm', createPNDMScheduler, {
    defaults: { all: PNDM_DEFAULTS, fromSd: { skip_prk_steps: true } },
    // skip_prk_steps adds the repeated timestep (one more call), except for a single step.
    sweep: {
      name: 'runs %i steps with skip_prk_steps',
      expect: (steps) => ({ expectedCount: steps === 1 ? 1 : steps + 1, repeats: steps === 1 ? [] : [2] }),
    },
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
    expectFullLoop(createPNDMScheduler(config), 10, { sum, mean });
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
