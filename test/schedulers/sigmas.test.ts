import { describe, expect, it } from 'vitest';
import {
  betaPpf,
  betaSigmas,
  buildSigmaSchedule,
  exponentialSigmas,
  interpUnitGrid,
  sigmaSchedulerTimesteps,
} from '../../src/engine/schedulers/sigmas.ts';
import { torchLinspaceF32 } from '../../src/engine/schedulers/noise-schedule.ts';

describe('sigma schedule helpers', () => {
  it('betaPpf matches scipy.stats.beta.ppf(q, 0.6, 0.6)', () => {
    // scipy 1.17.1 values.
    const expected: [number, number][] = [
      [0.001, 1.855873851745199e-5],
      [0.1, 0.03958440558878085],
      [0.25, 0.17568037865269498],
      [0.5, 0.5000000000000001],
      [0.75, 0.824319621347305],
      [0.9, 0.9604155944112192],
      [0.999, 0.9999814412614826],
    ];
    for (const [q, ppf] of expected) expect(Math.abs(betaPpf(q, 0.6, 0.6) - ppf)).toBeLessThan(1e-12 * Math.max(ppf, 1e-3));
    expect(betaPpf(0, 0.6, 0.6)).toBe(0);
    expect(betaPpf(1, 0.6, 0.6)).toBe(1);
  });

  it('exponential and beta schedules run from sigma_max down to sigma_min', () => {
    for (const sigmas of [exponentialSigmas(0.03, 14.6, 12), betaSigmas(0.03, 14.6, 12)]) {
      expect(sigmas[0]).toBeCloseTo(14.6, 12);
      expect(sigmas[11]).toBeCloseTo(0.03, 12);
      for (let i = 1; i < sigmas.length; i++) expect(sigmas[i]).toBeLessThan(sigmas[i - 1]!);
    }
  });

  it('interpUnitGrid behaves like np.interp over arange(len(fp))', () => {
    const fp = Float64Array.from([1, 3, 7]);
    expect(interpUnitGrid(-1, fp)).toBe(1);
    expect(interpUnitGrid(0, fp)).toBe(1);
    expect(interpUnitGrid(0.25, fp)).toBe(1.5);
    expect(interpUnitGrid(1.5, fp)).toBe(5);
    expect(interpUnitGrid(2, fp)).toBe(7);
    expect(interpUnitGrid(5, fp)).toBe(7);
  });

  it('builds the timesteps numpy builds for each spacing', () => {
    expect(sigmaSchedulerTimesteps('linspace', 1000, 4, 0)).toEqual([999, 666, 333, 0]);
    // float32 of np.linspace: 999 / 6 * k is not always representable.
    expect(sigmaSchedulerTimesteps('linspace', 1000, 7, 0)).toEqual([999, 832.5, 666, 499.5, 333, 166.5, 0]);
    expect(sigmaSchedulerTimesteps('linspace', 1000, 1, 0)).toEqual([0]);
    expect(sigmaSchedulerTimesteps('leading', 1000, 4, 1)).toEqual([751, 501, 251, 1]);
    expect(sigmaSchedulerTimesteps('trailing', 1000, 4, 0)).toEqual([999, 749, 499, 249]);
    // np.arange(1000, 0, -1000 / 61) has 62 elements (ceil of 61.000000000000007), the last rounding
    // to 0; diffusers therefore runs 62 steps ending at timestep -1. Reproduced on purpose.
    const quirk = sigmaSchedulerTimesteps('trailing', 1000, 61, 0);
    expect(quirk).toHaveLength(62);
    expect(quirk.at(-1)).toBe(-1);
  });

  it('torchLinspaceF32 fills forwards then backwards in float32, hitting both ends', () => {
    const values = torchLinspaceF32(0.1, 0.7, 7);
    expect(values[0]).toBe(Math.fround(0.1));
    expect(values[6]).toBe(Math.fround(0.7));
    for (const v of values) expect(Math.fround(v)).toBe(v);
  });

  it('karras respacing keeps the end sigmas and maps them back to the end timesteps', () => {
    // A synthetic increasing sigma table: sigma(t) = exp(t / 100) / 10.
    const train = Float64Array.from({ length: 1000 }, (_, t) => Math.fround(Math.exp(t / 100) / 10));
    const schedule = buildSigmaSchedule(train, 8, { timestepSpacing: 'linspace', stepsOffset: 0, sigmaKind: 'karras' });
    expect(schedule.sigmas).toHaveLength(9);
    expect(schedule.sigmas[0]).toBe(train[999]);
    expect(schedule.sigmas[7]! / train[0]! - 1).toBeLessThan(1e-6);
    expect(schedule.timesteps[0]).toBeCloseTo(999, 3);
    expect(schedule.timesteps[7]).toBeCloseTo(0, 3);
  });
});
