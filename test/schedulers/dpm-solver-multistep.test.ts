import { describe, expect, it } from 'vitest';
import {
  createDPMSolverMultistepKarrasScheduler,
  createDPMSolverMultistepScheduler,
  DPM_SOLVER_MULTISTEP_DEFAULTS,
  DPMSolverMultistepScheduler,
} from '../../src/engine/schedulers/dpm-solver-multistep.ts';
import { diffusersFullLoop, expectFullLoop, expectValidRun, referenceCase, schedulerSuite, solverAlphaSigma } from './helpers.ts';

const factories = {
  'dpm++2m': createDPMSolverMultistepScheduler,
  'dpm++2m-karras': createDPMSolverMultistepKarrasScheduler,
} as const;

/** Positions where the schedule repeats a timestep: Karras sigmas near sigma_min round to the same t in diffusers too. */
const repeatsOf = (timesteps: readonly number[]) => timesteps.flatMap((t, i) => (i > 0 && t === timesteps[i - 1] ? [i] : []));

describe.each(Object.entries(factories))('%s matches diffusers 0.32 DPMSolverMultistepScheduler', (key, create) => {
  const { rawConfig } = referenceCase(key);
  schedulerSuite(key, (raw) => create(raw) as DPMSolverMultistepScheduler, {
    vAlphaSigma: (scheduler) => solverAlphaSigma(scheduler),
    sweep: {
      expect: (steps) => {
        const probe = create(rawConfig);
        probe.setTimesteps(steps);
        return { repeats: repeatsOf(probe.timesteps) };
      },
    },
    restarts: true,
  });
});

describe('DPMSolverMultistepScheduler config handling', () => {
  const { rawConfig } = referenceCase('dpm++2m');

  it('takes its own defaults for keys the config leaves out (from_config)', () => {
    const fromSd = new DPMSolverMultistepScheduler(rawConfig);
    expect(fromSd.config.timestep_spacing).toBe('linspace');
    expect(fromSd.config.use_karras_sigmas).toBe(false);
    expect(fromSd.config.final_sigmas_type).toBe('zero');
    expect(new DPMSolverMultistepScheduler({}).config).toEqual(DPM_SOLVER_MULTISTEP_DEFAULTS);
    // The -karras name forces Karras sigmas whatever the model config says.
    const karras = createDPMSolverMultistepKarrasScheduler({ ...rawConfig, use_karras_sigmas: false }) as DPMSolverMultistepScheduler;
    expect(karras.config.use_karras_sigmas).toBe(true);
  });

  // Expected values from diffusers' tests/schedulers/test_scheduler_dpm_multi.py (full_loop).
  const unitConfig = {
    num_train_timesteps: 1000,
    beta_start: 0.0001,
    beta_end: 0.02,
    beta_schedule: 'linear',
    solver_order: 2,
    prediction_type: 'epsilon',
    algorithm_type: 'dpmsolver++',
    solver_type: 'midpoint',
    lower_order_final: false,
    final_sigmas_type: 'sigma_min',
  };
  it.each([
    [{}, 0.3301],
    [{ prediction_type: 'v_prediction' }, 0.2251],
    [{ prediction_type: 'v_prediction', use_karras_sigmas: true }, 0.2096],
  ])('matches diffusers unit-test full loop %o', (extra, mean) => {
    expectFullLoop(createDPMSolverMultistepScheduler({ ...unitConfig, ...extra }), 10, { mean });
  });

  it('runs every algorithm type, solver type and order without NaN', () => {
    for (const algorithm_type of ['dpmsolver++', 'dpmsolver', 'sde-dpmsolver++', 'sde-dpmsolver']) {
      for (const solver_type of ['midpoint', 'heun']) {
        for (const solver_order of algorithm_type.startsWith('sde-') ? [1, 2] : [1, 2, 3]) {
          for (const prediction_type of ['epsilon', 'sample', 'v_prediction']) {
            const config = { ...unitConfig, algorithm_type, solver_type, solver_order, prediction_type };
            const result = diffusersFullLoop(createDPMSolverMultistepScheduler(config), 10);
            expect(Number.isFinite(result.mean)).toBe(true);
          }
        }
      }
    }
  });

  it('trailing / leading spacing and zero-SNR rescale run', () => {
    expectValidRun(createDPMSolverMultistepScheduler({ ...rawConfig, timestep_spacing: 'trailing' }), 25);
    expectValidRun(createDPMSolverMultistepScheduler({ ...rawConfig, timestep_spacing: 'leading', steps_offset: 1 }), 25);
    expectValidRun(
      createDPMSolverMultistepScheduler({ ...rawConfig, rescale_betas_zero_snr: true, timestep_spacing: 'trailing', prediction_type: 'v_prediction' }),
      25,
    );
  });

  it('rejects invalid configs with clear errors', () => {
    expect(() => createDPMSolverMultistepScheduler({ beta_schedule: 'foo' })).toThrow(/beta_schedule "foo"/);
    expect(() => createDPMSolverMultistepScheduler({ prediction_type: 'flow_prediction' })).toThrow(/prediction_type/);
    expect(() => createDPMSolverMultistepScheduler({ algorithm_type: 'magic' })).toThrow(/algorithm_type "magic"/);
    expect(() => createDPMSolverMultistepScheduler({ solver_type: 'rk4' })).toThrow(/solver_type "rk4"/);
    expect(() => createDPMSolverMultistepScheduler({ final_sigmas_type: 'one' })).toThrow(/final_sigmas_type "one"/);
    expect(() => createDPMSolverMultistepScheduler({ algorithm_type: 'dpmsolver' })).toThrow(/sigma_min/);
    expect(() => createDPMSolverMultistepScheduler({ solver_order: 4 })).toThrow(/solver_order/);
    expect(() => createDPMSolverMultistepScheduler({ use_lu_lambdas: true })).toThrow(/use_lu_lambdas/);
    expect(() => createDPMSolverMultistepScheduler({ thresholding: true })).toThrow(/thresholding/);
  });
});
