/**
 * Per-step overhead of the engine over a bare `session.run` on an SDXL-shaped model (the
 * builder's tiny-sdxl: two text encoders, `text_embeds` and `time_ids` conditioning). The bare
 * loop feeds the UNet the same guided batch-2 inputs the engine feeds it, so the difference is
 * the engine's own work per step: scheduler, guidance, tensors, progress.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createEngine } from '../../src/engine/engine.ts';
import { sessionOptions } from '../../src/engine/providers.ts';
import type { ResolvedProvider } from '../../src/engine/types.ts';
import { buildModel } from '../../src/models/builder/index.ts';

export interface SdxlOverheadFigures {
  size: number;
  steps: number;
  rounds: number;
  bareStepMs: number;
  engineStepMs: number;
  bareMedianMs: number;
  engineMedianMs: number;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** A tensor of the input's declared dtype and of `dims`, filled with a smooth pattern. */
function filled(meta: ort.InferenceSession.TensorValueMetadata, dims: number[]): ort.Tensor {
  const length = dims.reduce((a, b) => a * b, 1);
  if (meta.type === 'int64') return new ort.Tensor('int64', BigInt64Array.from({ length }, () => 500n), dims);
  return new ort.Tensor('float32', Float32Array.from({ length }, (_, i) => Math.sin(i) * 0.5), dims);
}

/** The UNet's guided batch-2 feeds at `size`, shaped from its own metadata (symbolic dims filled in). */
function unetFeeds(unet: ort.InferenceSession, size: number): Record<string, ort.Tensor> {
  const latent = size / 8;
  const feeds: Record<string, ort.Tensor> = {};
  for (const meta of unet.inputMetadata) {
    if (!meta.isTensor) continue;
    const known: Record<string, number[]> = {
      sample: [2, 4, latent, latent],
      timestep: meta.shape.length === 0 ? [] : [1],
      time_ids: [2, 6],
    };
    const dims = known[meta.name] ?? meta.shape.map((dim, axis) => (axis === 0 ? 2 : typeof dim === 'number' && dim > 0 ? dim : 77));
    feeds[meta.name] = filled(meta, dims);
  }
  return feeds;
}

export async function measureSdxlOverhead(provider: ResolvedProvider, size = 256, steps = 10, rounds = 5): Promise<SdxlOverheadFigures> {
  const root = await mkdtemp(join(tmpdir(), 'imagine-bench-sdxl-'));
  try {
    const dir = join(root, 'tiny-sdxl');
    await buildModel(dir, { preset: 'tiny-sdxl' });
    const unet = await ort.InferenceSession.create(join(dir, 'unet', 'model.onnx'), sessionOptions(provider));
    const engine = await createEngine({ modelDir: dir, provider, backend: 'in-thread' });
    try {
      const feeds = unetFeeds(unet, size);
      for (let i = 0; i < 2; i++) await unet.run(feeds);
      const request = { prompt: 'a lighthouse', negativePrompt: 'fog', seed: 1, steps, guidance: 5, scheduler: 'euler' as const, width: size, height: size };
      await engine.generate({ ...request, steps: 2 }, { previewEvery: 0 });
      const bare: number[] = [];
      const withEngine: number[] = [];
      // Interleaved rounds: load on this machine hits both alike; the best round is the least disturbed.
      for (let round = 0; round < rounds; round++) {
        const t0 = performance.now();
        for (let i = 0; i < steps; i++) await unet.run(feeds);
        bare.push((performance.now() - t0) / steps);
        withEngine.push((await engine.generate(request, { previewEvery: 0 })).timings.perStepMs);
      }
      return {
        size,
        steps,
        rounds,
        bareStepMs: Math.min(...bare),
        engineStepMs: Math.min(...withEngine),
        bareMedianMs: median(bare),
        engineMedianMs: median(withEngine),
      };
    } finally {
      await Promise.all([unet.release(), engine.close()]);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export function printSdxlOverhead(f: SdxlOverheadFigures, row: (label: string, value: string) => void): void {
  console.log(`\nSDXL-shaped (tiny-sdxl), ${f.size}×${f.size}, guided batch 2, ${f.steps} steps, best of ${f.rounds} interleaved rounds (median in brackets)`);
  row('bare session.run (ms/step)', `${f.bareStepMs.toFixed(1)} (${f.bareMedianMs.toFixed(1)})`);
  row(
    'engine in-thread (ms/step)',
    `${f.engineStepMs.toFixed(1)} (${f.engineMedianMs.toFixed(1)})  overhead ${((f.engineStepMs / f.bareStepMs - 1) * 100).toFixed(1)} % (medians ${((f.engineMedianMs / f.bareMedianMs - 1) * 100).toFixed(1)} %)`,
  );
}
