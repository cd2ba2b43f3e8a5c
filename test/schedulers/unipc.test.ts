import { describe, expect, it } from 'vitest';
import { createUniPCScheduler, UNIPC_DEFAULTS, UniPCMultistepScheduler } from '../../src/engine/schedulers/unipc.ts';
import {
  diffusersFullLoop,
  expectFullLoop,
  referenceCase,
  runRecipe,
  schedulerSuite,
  solverAlphaSigma,
  tanhModel,
  trajectoryDifference,
  vPredictionModel,
} from './helpers.ts';

const { rawConfig } = referenceCase('unipc');

describe('UniPCMultistepScheduler matches diffusers 0.32 UniPCMultistepScheduler', () => {
  // The v-prediction twin is checked below, with and without Karras sigmas.
  schedulerSuite('unipc', createUniPCScheduler, {
    defaults: { all: UNIPC_DEFAULTS, fromSd: { timestep_spacing: 'linspace', solver_type: 'bh2', disable_corrector: [] } },
    restarts: true,
  });

  // Expected values from diffusers' tests/schedulers/test_scheduler_unipc.py (full_loop).
  const unitConfig = { num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', solver_order: 2, solver_type: 'bh2', final_sigmas_type: 'sigma_min' };
  it.each([
    [{}, 0.2464],
    [{ use_karras_sigmas: true }, 0.2925],
    [{ prediction_type: 'v_prediction' }, 0.1014],
    [{ prediction_type: 'v_prediction', use_karras_sigmas: true }, 0.1966],
  ])('matches diffusers unit-test full loop %o', (extra, mean) => {
    expectFullLoop(createUniPCScheduler({ ...unitConfig, ...extra }), 10, { mean });
  });

  it.each([false, true])('a v-prediction model equivalent to the epsilon model gives the same trajectory (karras %s)', (karras) => {
    const config = { ...rawConfig, use_karras_sigmas: karras };
    const eps = runRecipe(createUniPCScheduler(config));
    const scheduler = new UniPCMultistepScheduler({ ...config, prediction_type: 'v_prediction' });
    const v = runRecipe(scheduler, { model: vPredictionModel(tanhModel, solverAlphaSigma(scheduler)) });
    expect(trajectoryDifference(v, eps)).toBeLessThan(1e-4);
  });

  it('runs every solver type, order and prediction type without NaN', () => {
    for (const solver_type of ['bh1', 'bh2']) {
      for (const solver_order of [1, 2, 3]) {
        for (const prediction_type of ['epsilon', 'sample', 'v_prediction']) {
          for (const predict_x0 of [true, false]) {
            const config = { ...unitConfig, solver_type, solver_order, prediction_type, predict_x0 };
            expect(Number.isFinite(diffusersFullLoop(createUniPCScheduler(config), 10).mean)).toBe(true);
          }
        }
      }
    }
    expect(Number.isFinite(diffusersFullLoop(createUniPCScheduler({ ...unitConfig, disable_corrector: [0, 1] }), 10).mean)).toBe(true);
  });

  it('rejects invalid configs with clear errors', () => {
    expect(() => createUniPCScheduler({ beta_schedule: 'foo' })).toThrow(/beta_schedule "foo"/);
    expect(() => createUniPCScheduler({ prediction_type: 'flow_prediction' })).toThrow(/prediction_type/);
    expect(() => createUniPCScheduler({ solver_type: 'rk4' })).toThrow(/solver_type "rk4"/);
    expect(() => createUniPCScheduler({ final_sigmas_type: 'one' })).toThrow(/final_sigmas_type "one"/);
    expect(() => createUniPCScheduler({ use_beta_sigmas: true })).toThrow(/use_beta_sigmas/);
    expect(() => createUniPCScheduler({ thresholding: true })).toThrow(/thresholding/);
  });
});
