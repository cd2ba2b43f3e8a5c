/**
 * Bench figures for img2img and the safety checker, from one run on the default tiny model built
 * with the stand-in safety checker: the init-image encode (VAE encoder, sampling, noising) and the
 * safety check, each beside the whole job they were part of.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createEngine } from '../../src/engine/engine.ts';
import type { ResolvedProvider } from '../../src/engine/types.ts';
import { buildModel } from '../../src/models/builder/index.ts';

export interface ImagePartsFigures {
  size: number;
  steps: number;
  jobMs: number;
  initImageMs: number;
  img2imgJobMs: number;
  safetyCheckMs: number;
}

export async function benchImageParts(provider: ResolvedProvider, size: number, steps: number, rounds = 3): Promise<ImagePartsFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'imagine-bench-img-'));
  try {
    const modelDir = join(dir, 'tiny-sd-safe');
    await buildModel(modelDir, { safetyChecker: true });
    const pixels = Buffer.from(Array.from({ length: size * size * 3 }, (_, i) => (i * 37) % 256));
    const initImage = await sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
    const engine = await createEngine({ modelDir, provider, backend: 'in-thread' });
    try {
      const text = { prompt: 'a lighthouse', seed: 1, steps, scheduler: 'euler' as const, width: size, height: size };
      await engine.generate({ ...text, steps: 2 }, { previewEvery: 0 }); // warm-up
      await engine.generate({ ...text, steps: 2, initImage, strength: 1 }, { previewEvery: 0 });
      let best: ImagePartsFigures | undefined;
      for (let round = 0; round < rounds; round++) {
        const plain = await engine.generate(text, { previewEvery: 0 });
        const img2img = await engine.generate({ ...text, initImage, strength: 1 }, { previewEvery: 0 });
        const figures = {
          size,
          steps,
          jobMs: plain.timings.totalMs,
          initImageMs: img2img.timings.initImageMs ?? Number.NaN,
          img2imgJobMs: img2img.timings.totalMs,
          safetyCheckMs: plain.timings.safetyCheckMs ?? Number.NaN,
        };
        if (!best || figures.jobMs < best.jobMs) best = figures;
      }
      return best!;
    } finally {
      await engine.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
