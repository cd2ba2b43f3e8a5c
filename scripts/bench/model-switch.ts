/**
 * Model switch time: two tiny models behind one engine whose memory budget holds only one, so
 * each job on the other model unloads one and loads the other (worker-thread backend, as the bot
 * runs). The switch cost is a switching job's time minus the same job on a loaded model.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeModelFolder } from '../../src/engine/catalog/model-entry.ts';
import { createEngine } from '../../src/engine/engine.ts';
import { RUNTIME_BYTES } from '../../src/engine/memory/estimate.ts';
import type { GenerateRequest, ProviderChoice } from '../../src/engine/types.ts';
import { buildModel } from '../../src/models/builder/index.ts';

export interface SwitchFigures {
  /** A one-step job on the model already loaded. */
  loadedJobMs: number;
  /** The same job when it must unload the other model and load this one (median). */
  switchJobMs: number;
  switches: number;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function measureModelSwitch(provider: ProviderChoice, switches = 5): Promise<SwitchFigures> {
  const root = await mkdtemp(join(tmpdir(), 'imagine-bench-switch-'));
  try {
    for (const [name, seed] of [['first', 1], ['second', 2]] as const) await buildModel(join(root, name), { seed });
    const weights = (await describeModelFolder(join(root, 'first'))).memory.weightsBytes;
    const memoryBudgetMb = (RUNTIME_BYTES + 1.5 * weights) / 1024 ** 2;
    const engine = await createEngine({ modelsDir: root, provider, memoryBudgetMb });
    try {
      const job: GenerateRequest = { prompt: 'a lighthouse', seed: 1, steps: 1, scheduler: 'euler', width: 64, height: 64 };
      const timed = async (model: string): Promise<number> => (await engine.generate({ ...job, model }, { previewEvery: 0 })).timings.totalMs;
      await timed('first');
      const loaded: number[] = [];
      for (let i = 0; i < switches; i++) loaded.push(await timed('first'));
      const switching: number[] = [];
      for (let i = 0; i < switches; i++) switching.push(await timed(i % 2 === 0 ? 'second' : 'first'));
      return { loadedJobMs: median(loaded), switchJobMs: median(switching), switches };
    } finally {
      await engine.close();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export function printModelSwitch(figures: SwitchFigures, row: (label: string, value: string) => void): void {
  row(
    `model switch, tiny models (unload + load, median of ${figures.switches})`,
    `${(figures.switchJobMs - figures.loadedJobMs).toFixed(0)} ms (job ${figures.switchJobMs.toFixed(0)} ms vs ${figures.loadedJobMs.toFixed(0)} ms loaded)`,
  );
}
