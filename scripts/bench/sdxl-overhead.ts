/**
 * Per-step overhead of the engine over a bare `session.run` on an SDXL-shaped model (the
 * builder's tiny-sdxl: two text encoders, `text_embeds` and `time_ids` conditioning).
 *
 * The bare loop replays, on the engine's own UNet session, the very feeds the engine gave it in
 * the same run (captured by wrapping `InferenceSession.prototype.run` for this process). Same
 * session, same tensors, same values, so the difference is only the engine's own work per step:
 * scheduler, guidance, tensors, progress. A separate session fed made-up values differed from the
 * engine by ±15 % either way at 512², which was the inputs, not the engine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createEngine } from '../../src/engine/engine.ts';
import type { ResolvedProvider } from '../../src/engine/types.ts';
import { buildModel } from '../../src/models/builder/index.ts';

export interface SdxlOverheadFigures {
  size: number;
  steps: number;
  rounds: number;
  /** Replaying the engine's UNet feeds with nothing between calls. */
  bareStepMs: number;
  /** The engine's denoising loop, per step. */
  engineStepMs: number;
  /** Time inside the UNet's `session.run` during the engine's loop, per step. */
  insideRunStepMs: number;
  bareMedianMs: number;
  engineMedianMs: number;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface UnetCall {
  session: ort.InferenceSession;
  feeds: ort.InferenceSession.FeedsType;
}

/** Wraps `run` for this process: records UNet calls (the ones fed `sample`) and the time spent in them. */
function recordUnetCalls(): { calls: UnetCall[]; insideMs: () => number; reset(): void; pause(paused: boolean): void; restore(): void } {
  // The declared type is the factory interface; at run time it is the class every session is made from.
  const prototype = (ort.InferenceSession as unknown as { prototype: { run: (...args: unknown[]) => Promise<ort.InferenceSession.ReturnType> } }).prototype;
  const original = prototype.run;
  let calls: UnetCall[] = [];
  let inside = 0;
  let paused = false;
  prototype.run = async function (this: ort.InferenceSession, ...args: unknown[]) {
    const feeds = args[0] as ort.InferenceSession.FeedsType;
    if (paused || !('sample' in feeds)) return original.apply(this, args);
    calls.push({ session: this, feeds });
    const t0 = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      inside += performance.now() - t0;
    }
  };
  return {
    get calls() {
      return calls;
    },
    insideMs: () => inside,
    reset() {
      calls = [];
      inside = 0;
    },
    pause(value: boolean) {
      paused = value;
    },
    restore() {
      prototype.run = original;
    },
  };
}

export async function measureSdxlOverhead(provider: ResolvedProvider, size = 256, steps = 20, rounds = 15): Promise<SdxlOverheadFigures> {
  const root = await mkdtemp(join(tmpdir(), 'imagine-bench-sdxl-'));
  const recorder = recordUnetCalls();
  try {
    const dir = join(root, 'tiny-sdxl');
    await buildModel(dir, { preset: 'tiny-sdxl' });
    const engine = await createEngine({ modelDir: dir, provider, backend: 'in-thread' });
    try {
      const request = { prompt: 'a lighthouse', negativePrompt: 'fog', seed: 1, steps, guidance: 5, scheduler: 'euler' as const, width: size, height: size };
      await engine.generate({ ...request, steps: 2 }, { previewEvery: 0 });
      const bare: number[] = [];
      const withEngine: number[] = [];
      const inside: number[] = [];
      // Interleaved rounds: load on this machine hits both alike; the best round is the least disturbed.
      for (let round = 0; round < rounds; round++) {
        recorder.reset();
        withEngine.push((await engine.generate(request, { previewEvery: 0 })).timings.perStepMs);
        inside.push(recorder.insideMs() / steps);
        const replay = [...recorder.calls];
        if (replay.length !== steps) throw new Error(`expected ${steps} UNet calls, recorded ${replay.length}`);
        recorder.pause(true);
        const t0 = performance.now();
        for (const call of replay) await call.session.run(call.feeds);
        bare.push((performance.now() - t0) / steps);
        recorder.pause(false);
      }
      return {
        size,
        steps,
        rounds,
        bareStepMs: Math.min(...bare),
        engineStepMs: Math.min(...withEngine),
        insideRunStepMs: Math.min(...inside),
        bareMedianMs: median(bare),
        engineMedianMs: median(withEngine),
      };
    } finally {
      await engine.close();
    }
  } finally {
    recorder.restore();
    await rm(root, { recursive: true, force: true });
  }
}

export function printSdxlOverhead(f: SdxlOverheadFigures, row: (label: string, value: string) => void): void {
  const percent = (a: number, b: number): string => `${((a / b - 1) * 100).toFixed(1)} %`;
  console.log(`\nSDXL-shaped (tiny-sdxl), ${f.size}×${f.size}, guided batch 2, ${f.steps} steps, best of ${f.rounds} interleaved rounds (median in brackets)`);
  row('bare session.run, same feeds (ms/step)', `${f.bareStepMs.toFixed(2)} (${f.bareMedianMs.toFixed(2)})`);
  row(
    'engine in-thread (ms/step)',
    `${f.engineStepMs.toFixed(2)} (${f.engineMedianMs.toFixed(2)})  overhead ${percent(f.engineStepMs, f.bareStepMs)} (medians ${percent(f.engineMedianMs, f.bareMedianMs)})`,
  );
  row('  of which inside session.run (ms/step)', `${f.insideRunStepMs.toFixed(2)}  engine's own work ${percent(f.engineStepMs, f.insideRunStepMs)}`);
}
