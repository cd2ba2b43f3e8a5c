import { describe, expect, it } from 'vitest';
import { TorchGenerator } from '../../src/engine/random/torch-generator.ts';
import { createScheduler } from '../../src/engine/schedulers/registry.ts';
import { SCHEDULER_NAMES, type SchedulerName } from '../../src/engine/schedulers/scheduler.ts';
import { referenceCase } from './helpers.ts';

const f = Math.fround;
const SIGMA_SCHEDULERS: readonly SchedulerName[] = ['lms', 'euler', 'euler-a', 'heun'];
const SOLVER_SCHEDULERS: readonly SchedulerName[] = ['dpm++2m', 'dpm++2m-karras', 'unipc'];

/** SD 1.5's ᾱ_t (scaled_linear betas), computed here in float64 from the config, independent of the ports. */
function sd15AlphaCumprod(t: number): number {
  const start = Math.sqrt(0.00085);
  const end = Math.sqrt(0.012);
  let product = 1;
  for (let i = 0; i <= t; i++) product *= 1 - (start + ((end - start) * i) / 999) ** 2;
  return product;
}

function ramp(n: number, scale: number, offset: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => f(Math.sin(i * scale + offset)));
}

describe('img2img hooks: order, set_begin_index and add_noise against torch figures', () => {
  const original = ramp(64, 0.37, 0.1);
  const noise = ramp(64, 0.91, 1.3);

  for (const name of SCHEDULER_NAMES) {
    it(`${name}: add_noise at the begin index of a 10-step schedule`, () => {
      const { ref, rawConfig } = referenceCase(name);
      const scheduler = createScheduler(name, rawConfig);
      scheduler.setTimesteps(10);
      expect(scheduler.order).toBe(name === 'heun' ? 2 : 1);
      expect(scheduler.timesteps).toEqual(ref.timesteps);
      const begin = 3 * scheduler.order;
      scheduler.setBeginIndex(begin);
      const t = scheduler.timesteps[begin]!;
      const noised = scheduler.addNoise(original, noise, t);
      let expected: number[];
      if (SIGMA_SCHEDULERS.includes(name)) {
        const sigma = ref.sigmas![begin]!;
        expected = Array.from(original, (x, i) => x + f(noise[i]! * sigma));
      } else if (SOLVER_SCHEDULERS.includes(name)) {
        const sigma = ref.sigmas![begin]!;
        const alpha = 1 / Math.sqrt(sigma * sigma + 1);
        expected = Array.from(original, (x, i) => alpha * x + sigma * alpha * noise[i]!);
      } else {
        const a = sd15AlphaCumprod(t);
        expected = Array.from(original, (x, i) => Math.sqrt(a) * x + Math.sqrt(1 - a) * noise[i]!);
      }
      for (let i = 0; i < expected.length; i++) expect(noised[i]).toBeCloseTo(expected[i]!, 5);
    });
  }

  for (const name of ['lms', 'euler', 'euler-a', 'heun', 'dpm++2m', 'unipc', 'lcm'] as const) {
    it(`${name}: a begin index past the schedule is refused`, () => {
      const { rawConfig } = referenceCase(name);
      const scheduler = createScheduler(name, rawConfig);
      scheduler.setTimesteps(5);
      expect(() => scheduler.setBeginIndex(scheduler.timesteps.length)).toThrow(/begin index/);
    });
  }

  for (const name of SCHEDULER_NAMES) {
    it(`${name}: steps through the rest of the schedule from the begin index`, () => {
      const { rawConfig } = referenceCase(name);
      const scheduler = createScheduler(name, rawConfig);
      scheduler.setTimesteps(10);
      const begin = 4 * scheduler.order;
      scheduler.setBeginIndex(begin);
      const generator = new TorchGenerator(5);
      let x = scheduler.addNoise(original, noise, scheduler.timesteps[begin]!);
      for (const t of scheduler.timesteps.slice(begin)) {
        const input = scheduler.scaleModelInput(x, t);
        x = scheduler.step(input.map((v) => 0.5 * Math.tanh(v)), t, x, generator).prevSample;
      }
      expect(x.every(Number.isFinite)).toBe(true);
    });
  }

  it('lms begun mid-schedule weights its single derivative with the full-order coefficient (diffusers zips them)', () => {
    const { ref, rawConfig } = referenceCase('lms');
    const scheduler = createScheduler('lms', rawConfig);
    scheduler.setTimesteps(10);
    const begin = 5;
    scheduler.setBeginIndex(begin);
    const sigmas = ref.sigmas!;
    // ∫ over [σ_i, σ_{i+1}] of the order-4 Lagrange basis polynomial of σ_i, by composite Simpson.
    const basis = (tau: number) => {
      let product = 1;
      for (let k = 1; k < 4; k++) product *= (tau - sigmas[begin - k]!) / (sigmas[begin]! - sigmas[begin - k]!);
      return product;
    };
    const a = sigmas[begin]!;
    const b = sigmas[begin + 1]!;
    const n = 2000;
    let sum = basis(a) + basis(b);
    for (let i = 1; i < n; i++) sum += (i % 2 ? 4 : 2) * basis(a + ((b - a) * i) / n);
    const coefficient = (sum * (b - a)) / (3 * n);
    const x = ramp(16, 0.5, 0);
    const eps = ramp(16, 0.2, 0.7);
    const out = scheduler.step(eps, scheduler.timesteps[begin]!, x, new TorchGenerator(0)).prevSample;
    for (let i = 0; i < x.length; i++) expect(out[i]).toBeCloseTo(x[i]! + coefficient * eps[i]!, 4);
  });
});
