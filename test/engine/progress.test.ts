import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.ts';
import { userStepsAfter } from '../../src/engine/pipeline/stages/denoise.ts';
import { createScheduler } from '../../src/engine/schedulers/registry.ts';
import type { Engine, GenerationProgress, SchedulerName } from '../../src/engine/types.ts';
import { fixtureDir } from './fixtures.ts';

/** diffusers' progress-bar rule, written out: update at the last call, or after warm-up every `order` calls. */
function diffusersUpdates(calls: number, steps: number, order: number): number[] {
  const warmup = Math.max(calls - steps * order, 0);
  const updates: number[] = [];
  for (let i = 0; i < calls; i++) if (i === calls - 1 || (i + 1 > warmup && (i + 1) % order === 0)) updates.push(i);
  return updates;
}

describe('progress counts the user’s steps', () => {
  const config = { beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', skip_prk_steps: true, steps_offset: 1 };
  const cases: [SchedulerName, number, number][] = [
    ['pndm', 40, 41],
    ['heun', 40, 79],
    ['euler', 40, 40],
    ['pndm', 1, 1],
    ['pndm', 2, 3],
    ['heun', 1, 1],
  ];
  for (const [name, steps, calls] of cases) {
    it(`${name}, ${steps} steps: ${calls} UNet calls, one update per step where diffusers' bar updates`, () => {
      const scheduler = createScheduler(name, config);
      scheduler.setTimesteps(steps);
      expect(scheduler.timesteps).toHaveLength(calls);
      const seen = Array.from({ length: calls }, (_, i) => userStepsAfter(i, calls, steps, name === 'heun' ? 2 : 1));
      const updated = seen.flatMap((done, i) => (done > (i === 0 ? 0 : seen[i - 1]!) ? [i] : []));
      expect(updated).toEqual(diffusersUpdates(calls, steps, name === 'heun' ? 2 : 1));
      expect(seen.at(-1)).toBe(steps);
    });
  }
});

describe('progress through the engine', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ modelDir: fixtureDir('parity-eps'), provider: 'cpu', backend: 'in-thread' });
  });
  afterAll(async () => {
    await engine.close();
  });

  it('a 40-step PNDM run reports 1/40 … 40/40, each once (not 41/41)', async () => {
    const seen: GenerationProgress[] = [];
    await engine.generate({ prompt: 'count', seed: 1, steps: 40, scheduler: 'pndm', width: 8, height: 8 }, { previewEvery: 10, onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => p.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(new Set(seen.map((p) => p.totalSteps))).toEqual(new Set([40]));
    expect(seen.filter((p) => p.preview).map((p) => p.step)).toEqual([10, 20, 30, 40]);
  });

  it('a 3-step Heun run (5 UNet calls) reports 3 steps', async () => {
    const seen: number[] = [];
    await engine.generate({ prompt: 'count', seed: 1, steps: 3, scheduler: 'heun', width: 8, height: 8 }, { onProgress: (p) => seen.push(p.step) });
    expect(seen).toEqual([1, 2, 3]);
  });
});
