import { describe, expect, it } from 'vitest';
import { img2imgSchedule } from '../../src/engine/pipeline/stages/img2img-start.ts';
import { createScheduler } from '../../src/engine/schedulers/registry.ts';
import { EngineError } from '../../src/engine/types.ts';
import { referenceCase } from '../schedulers/helpers.ts';

describe("img2imgSchedule is diffusers' get_timesteps", () => {
  it('Heun (order 2): t_start × 2 entries are skipped, so the run starts on a predictor step', () => {
    const { ref, rawConfig } = referenceCase('heun');
    const scheduler = createScheduler('heun', rawConfig);
    scheduler.setTimesteps(10);
    // 10 steps: [t0, t1, t1, …, t9, t9] = 19 entries. strength 0.75: int(7.5) = 7 steps, t_start = 3.
    const schedule = img2imgSchedule(scheduler, 10, 0.75);
    expect(schedule).toEqual({ beginIndex: 6, userSteps: 7, timesteps: ref.timesteps.slice(6) });
    expect(schedule.timesteps).toHaveLength(13);
    expect(schedule.timesteps[0]).toBe(ref.timesteps[5]);
  });

  it('order-1 schedulers skip t_start entries; PNDM keeps its repeated warm-up timestep in the count', () => {
    for (const name of ['euler', 'ddim', 'dpm++2m', 'pndm'] as const) {
      const { ref, rawConfig } = referenceCase(name);
      const scheduler = createScheduler(name, rawConfig);
      scheduler.setTimesteps(10);
      const schedule = img2imgSchedule(scheduler, 10, 0.3);
      expect(schedule.beginIndex).toBe(7);
      expect(schedule.userSteps).toBe(3);
      expect(schedule.timesteps).toEqual(ref.timesteps.slice(7));
    }
  });

  it('strength 1 keeps the whole schedule; int(steps × strength) = 0 is a request error', () => {
    const scheduler = createScheduler('euler', referenceCase('euler').rawConfig);
    scheduler.setTimesteps(10);
    expect(img2imgSchedule(scheduler, 10, 1)).toMatchObject({ beginIndex: 0, userSteps: 10 });
    scheduler.setTimesteps(10);
    let error: unknown;
    try {
      img2imgSchedule(scheduler, 10, 0.09);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ code: 'invalid-request' });
  });
});
