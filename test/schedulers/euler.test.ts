import { describe, expect, it } from 'vitest';
import { TorchGenerator } from '../../src/engine/random/torch-generator.ts';
import { createEulerScheduler, EulerDiscreteScheduler } from '../../src/engine/schedulers/euler.ts';
import { referenceCase, relativeError, runRecipe } from './helpers.ts';
import { expectValidSigmaRun, sigmaSchedulerSuite } from './sigma-helpers.ts';

const { rawConfig } = referenceCase('euler');
const make = (extra: Record<string, unknown> = {}): EulerDiscreteScheduler => new EulerDiscreteScheduler({ ...rawConfig, ...extra });

describe('euler (EulerDiscreteScheduler)', () => {
  sigmaSchedulerSuite('euler', (raw) => new EulerDiscreteScheduler(raw));

  it('exposes a factory returning the named scheduler', () => {
    expect(createEulerScheduler(rawConfig).name).toBe('euler');
  });

  it('use_karras_sigmas gives a Karras schedule between the default end sigmas', () => {
    for (const steps of [2, 10, 25]) {
      const plain = make();
      plain.setTimesteps(steps);
      const karras = make({ use_karras_sigmas: true });
      karras.setTimesteps(steps);
      const sigmas = karras.sigmas;
      expect(sigmas).toHaveLength(steps + 1);
      // sigma_max / sigma_min are the interpolated sigmas at the first and last default timesteps.
      expect(relativeError([sigmas[0]!], [plain.sigmas[0]!])).toBeLessThan(1e-6);
      expect(relativeError([sigmas[steps - 1]!], [plain.sigmas[steps - 1]!])).toBeLessThan(1e-6);
      expect(sigmas[steps]).toBe(0);
      for (let i = 1; i <= steps; i++) expect(sigmas[i]).toBeLessThan(sigmas[i - 1]!);
      expect(karras.timesteps[0]).toBeCloseTo(999, 3);
      expect(karras.timesteps[steps - 1]).toBeCloseTo(0, 3);
      for (let i = 1; i < steps; i++) expect(karras.timesteps[i]).toBeLessThan(karras.timesteps[i - 1]!);
    }
  });

  it('karras schedule agrees with a numpy transcription of diffusers set_timesteps', () => {
    // From diffusers 0.32's EulerDiscreteScheduler.set_timesteps(7) karras path transcribed line by line
    // into numpy 2.4 / torch 2.13 (not diffusers itself: not installable here), SD 1.5 betas.
    const karras = make({ use_karras_sigmas: true });
    karras.setTimesteps(7);
    const timesteps = [999.0, 868.4156494140625, 687.1532592773438, 427.4897766113281, 145.93905639648438, 17.858501434326172, 0.0];
    const sigmas = [14.614646911621094, 7.094420433044434, 3.1686110496520996, 1.2741053104400635, 0.44692090153694153, 0.13030873239040375, 0.02916753478348255, 0];
    karras.timesteps.forEach((t, i) => expect(Math.abs(t - timesteps[i]!)).toBeLessThan(1e-3));
    expect(relativeError(karras.sigmas, sigmas)).toBeLessThan(1e-6);
  });

  it('supports exponential and beta sigmas and rejects combining the flags', () => {
    for (const flag of ['use_exponential_sigmas', 'use_beta_sigmas']) {
      const scheduler = make({ [flag]: true });
      expectValidSigmaRun(scheduler, 25, 25);
      expect(relativeError([scheduler.sigmas[0]!], [14.614645004272461])).toBeLessThan(1e-6);
    }
    expect(() => make({ use_karras_sigmas: true, use_beta_sigmas: true })).toThrow(/only one of/);
  });

  it('sigma_min / sigma_max override the Karras end points', () => {
    const scheduler = make({ use_karras_sigmas: true, sigma_min: 0.1, sigma_max: 10 });
    scheduler.setTimesteps(10);
    expect(relativeError([scheduler.sigmas[0]!], [10])).toBeLessThan(1e-6);
    expect(relativeError([scheduler.sigmas[9]!], [0.1])).toBeLessThan(1e-6);
    expect(() => make({ sigma_min: -1 })).toThrow(/sigma_min/);
  });

  it('final_sigmas_type "sigma_min" ends on the smallest training sigma instead of 0', () => {
    const scheduler = make({ final_sigmas_type: 'sigma_min' });
    scheduler.setTimesteps(10);
    expect(scheduler.sigmas[10]).toBe(scheduler.sigmas[9]);
    expect(() => make({ final_sigmas_type: 'last' })).toThrow(/final_sigmas_type/);
  });

  it('continuous timesteps with v_prediction feed log(sigma) / 4', () => {
    const scheduler = make({ timestep_type: 'continuous', prediction_type: 'v_prediction' });
    scheduler.setTimesteps(5);
    scheduler.timesteps.forEach((t, i) => expect(t).toBeCloseTo(0.25 * Math.log(scheduler.sigmas[i]!), 6));
    expect(runRecipe(scheduler, { steps: 5 }).latents.every((x) => x.every(Number.isFinite))).toBe(true);
  });

  it('supports interpolation_type log_linear, rescale_betas_zero_snr and prediction_type sample', () => {
    const logLinear = make({ interpolation_type: 'log_linear' });
    logLinear.setTimesteps(10);
    // diffusers spreads num_inference_steps + 1 log-spaced sigmas over the training range.
    expect(logLinear.sigmas).toHaveLength(12);
    expect(runRecipe(logLinear).latents.at(-1)!.every(Number.isFinite)).toBe(true);

    const zeroSnr = make({ rescale_betas_zero_snr: true });
    zeroSnr.setTimesteps(10);
    // alphas_cumprod[-1] = 2^-24 gives sigma_max = sqrt(2^24 - 1).
    expect(relativeError([zeroSnr.sigmas[0]!], [Math.sqrt(2 ** 24 - 1)])).toBeLessThan(1e-6);
    expect(zeroSnr.initNoiseSigma).toBe(zeroSnr.sigmas[0]);

    const sample = make({ prediction_type: 'sample' });
    sample.setTimesteps(3);
    const x = new Float32Array([1, 2, 3, 4]);
    const x0 = new Float32Array([0.5, 0.5, 0.5, 0.5]);
    const out = sample.step(x0, sample.timesteps[0]!, x, new TorchGenerator(0));
    expect(Array.from(out.predOriginalSample)).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(() => make({ interpolation_type: 'cubic' })).toThrow(/interpolation_type/);
    expect(() => make({ timestep_type: 'int' })).toThrow(/timestep_type/);
  });

  it('init_noise_sigma is sqrt(sigma_max^2 + 1) for leading spacing', () => {
    const scheduler = make({ timestep_spacing: 'leading' });
    scheduler.setTimesteps(10);
    expect(scheduler.timesteps[0]).toBe(901);
    const max = scheduler.sigmas[0]!;
    expect(relativeError([scheduler.initNoiseSigma], [Math.sqrt(max * max + 1)])).toBeLessThan(1e-6);
  });

});
