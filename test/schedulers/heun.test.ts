import { describe, expect, it } from 'vitest';
import { TorchGenerator } from '../../src/engine/random/torch-generator.ts';
import { createHeunScheduler, HeunDiscreteScheduler } from '../../src/engine/schedulers/heun.ts';
import { referenceCase, relativeError, runRecipe } from './helpers.ts';
import { expectValidSigmaRun, sigmaSchedulerSuite } from './sigma-helpers.ts';

const { rawConfig } = referenceCase('heun');
const make = (extra: Record<string, unknown> = {}): HeunDiscreteScheduler => new HeunDiscreteScheduler({ ...rawConfig, ...extra });

describe('heun (HeunDiscreteScheduler)', () => {
  // Every interval after the first timestep runs the UNet twice: 2n - 1 timesteps.
  sigmaSchedulerSuite('heun', (raw) => new HeunDiscreteScheduler(raw), (steps) => 2 * steps - 1);

  it('exposes a factory returning the named scheduler', () => {
    expect(createHeunScheduler(rawConfig).name).toBe('heun');
  });

  it('repeats every timestep but the first, and every interior sigma', () => {
    const scheduler = make();
    scheduler.setTimesteps(4);
    expect(scheduler.timesteps).toEqual([999, 666, 666, 333, 333, 0, 0]);
    const s = scheduler.sigmas;
    expect(s).toHaveLength(8);
    expect([s[1], s[3], s[5]]).toEqual([s[2], s[4], s[6]]);
    expect(s[7]).toBe(0);
  });

  it('the corrector restarts from the predictor input and averages the two slopes', () => {
    const scheduler = make();
    scheduler.setTimesteps(2);
    const [t0, t1] = scheduler.timesteps;
    const [s0, s1] = scheduler.sigmas;
    const generator = new TorchGenerator(0);
    const x = new Float32Array([1, -2, 3, 0.5]);
    const eps1 = new Float32Array([0.1, 0.2, -0.3, 0.4]);
    const predicted = scheduler.step(eps1, t0!, x, generator).prevSample;
    const eps2 = new Float32Array([0.2, -0.1, 0.1, 0.3]);
    const corrected = scheduler.step(eps2, t1!, predicted, generator).prevSample;
    // x + (eps1 + eps2) / 2 * (s1 - s0) in float64. The float32 steps recover eps2 as
    // (x - (x - s1 * eps2)) / s1 with s1 = 0.029, which costs ~1e-5 relative, as in diffusers.
    const expected = Array.from(x, (v, i) => v + ((eps1[i]! + eps2[i]!) / 2) * (s1! - s0!));
    expect(relativeError(corrected, expected)).toBeLessThan(1e-4);
  });

  it('supports karras sigmas, clip_sample and the exp beta schedule', () => {
    const karras = make({ use_karras_sigmas: true });
    expectValidSigmaRun(karras, 10, 19);
    expect(relativeError([karras.sigmas[0]!], [14.614645004272461])).toBeLessThan(1e-6);

    const clipped = make({ clip_sample: true, clip_sample_range: 0.5 });
    const run = runRecipe(clipped);
    for (const x0 of run.predOriginal) expect(x0.every((v) => Math.abs(v) <= 0.5)).toBe(true);

    expectValidSigmaRun(make({ beta_schedule: 'exp' }), 7, 13);
    expect(() => make({ use_karras_sigmas: true, use_exponential_sigmas: true })).toThrow(/only one of/);
  });

});
