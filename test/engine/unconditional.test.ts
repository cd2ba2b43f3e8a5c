import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.ts';
import { EngineError, type Engine, type GenerationProgress } from '../../src/engine/types.ts';
import { diffusersDdpmReference } from './diffusers-ddpm-oracle.ts';
import { fixtureDir } from './fixtures.ts';

function maxByteDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

const dir = fixtureDir('parity-ddpm');

describe('parity-ddpm: the unconditional family equals diffusers DDPMPipeline / DDIMPipeline', () => {
  let engine: Engine;
  beforeAll(async () => {
    // The worker-thread backend: every family runs there as the bot runs it.
    engine = await createEngine({ modelDir: dir, provider: 'cpu' });
  });
  afterAll(async () => {
    await engine.close();
  });

  it('reads the model: unconditional, DDPM scheduler, native 32 px from sample_size', () => {
    expect(engine.info.model).toMatchObject({
      family: 'unconditional',
      defaultScheduler: 'ddpm',
      nativeWidth: 32,
      nativeHeight: 32,
      capabilities: { textToImage: false, img2img: false, safetyChecker: false, unconditional: true },
    });
  });

  for (const [scheduler, steps, count] of [
    ['ddpm', 20, 1],
    ['ddpm', 12, 2],
    ['ddim', 10, 1],
    ['ddim', 25, 2],
  ] as const) {
    it(`${scheduler}, ${steps} steps, ${count} image(s): same pixels`, async () => {
      const result = await engine.generate({ prompt: '', seed: 77, steps, scheduler, count });
      expect(result.request).toMatchObject({ prompt: '', width: 32, height: 32, scheduler, steps, count });
      const expected = await diffusersDdpmReference(dir, result.request);
      for (const [i, image] of result.images.entries()) expect(maxByteDiff(image.rgb.data, expected[i]!)).toBe(0);
      expect(result.images[0]!.nsfw).toBeUndefined();
    });
  }

  it('other sizes (multiples of 8) too, with progress per step and pixel-space previews', async () => {
    const progress: GenerationProgress[] = [];
    const result = await engine.generate({ prompt: '', seed: 5, steps: 6, width: 16, height: 24 }, { onProgress: (p) => progress.push(p) });
    expect(maxByteDiff(result.images[0]!.rgb.data, (await diffusersDdpmReference(dir, result.request))[0]!)).toBe(0);
    expect(progress.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(progress[5]!.preview).toMatchObject({ width: 16, height: 24 });
  });

  it('refuses a prompt, a negative prompt, an init image and schedulers the pipeline cannot use', async () => {
    const refuse = async (request: Parameters<Engine['generate']>[0], message: string) => {
      const error = await engine.generate(request).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).code).toBe('invalid-request');
      expect((error as EngineError).message).toBe(message);
    };
    await refuse({ prompt: 'a cat' }, 'parity-ddpm draws without a prompt (an unconditional DDPM model): leave the prompt out');
    await refuse({ prompt: '', negativePrompt: 'dogs' }, 'parity-ddpm draws without a prompt (an unconditional DDPM model): leave the prompt out');
    await refuse(
      { prompt: '', initImage: await readFile(join(fixtureDir('img2img'), 'init-64x64.png')) },
      'parity-ddpm is an unconditional model and cannot start from an image',
    );
    await refuse({ prompt: '', scheduler: 'euler' }, 'parity-ddpm is an unconditional model: it runs with the ddpm or ddim scheduler, not euler');
  });
});

describe('unconditional step limit', () => {
  it('allows up to 1000 steps (DDPMPipeline runs 1000 by default), and no more', async () => {
    const engine = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread' });
    try {
      const progress: number[] = [];
      const run = engine.generate({ prompt: '', seed: 1, steps: 1000, width: 8, height: 8 }, { previewEvery: 0, onProgress: (p) => progress.push(p.totalSteps) });
      await run;
      expect(progress[0]).toBe(1000);
      await expect(engine.generate({ prompt: '', steps: 1001 })).rejects.toThrow('steps must be a whole number from 1 to 1000, got 1001');
    } finally {
      await engine.close();
    }
  });
});
