import { describe, expect, it } from 'vitest';
import { TorchGenerator } from '../../src/engine/random/torch-generator.ts';
import { createEulerAncestralScheduler, EulerAncestralDiscreteScheduler } from '../../src/engine/schedulers/euler-ancestral.ts';
import { referenceCase, relativeError, runRecipe, tanhModel } from './helpers.ts';
import { sigmaSchedulerSuite } from './sigma-helpers.ts';

const { rawConfig } = referenceCase('euler-a');
const make = (extra: Record<string, unknown> = {}): EulerAncestralDiscreteScheduler =>
  new EulerAncestralDiscreteScheduler({ ...rawConfig, ...extra });

describe('euler-a (EulerAncestralDiscreteScheduler)', () => {
  sigmaSchedulerSuite('euler-a', (raw) => new EulerAncestralDiscreteScheduler(raw));

  it('exposes a factory returning the named scheduler', () => {
    expect(createEulerAncestralScheduler(rawConfig).name).toBe('euler-a');
  });

  it('draws one randn of the latent size per step from the caller generator, the last step included', () => {
    const scheduler = make();
    scheduler.setTimesteps(4);
    const generator = new TorchGenerator(7);
    let x: Float32Array = generator.randn(64).map((v) => v * scheduler.initNoiseSigma);
    for (const t of scheduler.timesteps) x = scheduler.step(tanhModel(scheduler.scaleModelInput(x, t), t, 0), t, x, generator).prevSample;
    const twin = new TorchGenerator(7);
    for (let i = 0; i < 5; i++) twin.randn(64);
    expect(Array.from(generator.randn(64))).toEqual(Array.from(twin.randn(64)));
  });

  it('is deterministic per seed and depends on it', () => {
    const a = runRecipe(make(), { seed: 3 }).latents.at(-1)!;
    const b = runRecipe(make(), { seed: 3 }).latents.at(-1)!;
    const c = runRecipe(make(), { seed: 4 }).latents.at(-1)!;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(relativeError(c, a)).toBeGreaterThan(1e-2);
  });

  it('rejects prediction_type sample, which diffusers does not implement for it', () => {
    expect(() => make({ prediction_type: 'sample' })).toThrow(/sample/);
  });

  it('supports rescale_betas_zero_snr', () => {
    const scheduler = make({ rescale_betas_zero_snr: true });
    scheduler.setTimesteps(10);
    expect(relativeError([scheduler.sigmas[0]!], [Math.sqrt(2 ** 24 - 1)])).toBeLessThan(1e-6);
    expect(runRecipe(scheduler).latents.at(-1)!.every(Number.isFinite)).toBe(true);
  });

});
