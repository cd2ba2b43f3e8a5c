import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.ts';
import { SCHEDULER_NAMES } from '../../src/engine/schedulers/scheduler.ts';
import { EngineError, type Engine, type GenerationProgress } from '../../src/engine/types.ts';
import { diffusersImg2ImgReference } from './diffusers-img2img-oracle.ts';
import { fixtureDir } from './fixtures.ts';

function maxByteDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

const dir = fixtureDir('parity-img2img');
const images = fixtureDir('img2img');
const square = join(images, 'init-64x64.png');
const wide = join(images, 'init-96x64.png');

describe('parity-img2img: engine img2img equals the diffusers StableDiffusionImg2ImgPipeline transcription', () => {
  let engine: Engine;
  let squareBytes: Uint8Array;
  let wideBytes: Uint8Array;
  beforeAll(async () => {
    engine = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread' });
    squareBytes = await readFile(square);
    wideBytes = await readFile(wide);
  });
  afterAll(async () => {
    await engine.close();
  });

  it('reads the model: img2img capable, no safety checker', () => {
    expect(engine.info.model.capabilities).toMatchObject({ textToImage: true, img2img: true, safetyChecker: false });
  });

  for (const scheduler of SCHEDULER_NAMES) {
    for (const strength of [0.3, 0.75, 1.0]) {
      it(`${scheduler}, strength ${strength}: same pixels; output takes the init image's size`, async () => {
        const result = await engine.generate({ prompt: 'a red fox', negativePrompt: 'blurry', seed: 42, steps: 10, guidance: 7.5, scheduler, initImage: squareBytes, strength });
        expect(result.request).toMatchObject({ width: 64, height: 64, strength, steps: 10 });
        const expected = await diffusersImg2ImgReference(dir, result.request, square);
        expect(maxByteDiff(result.images[0]!.rgb.data, expected[0]!)).toBe(0);
      });
    }
  }

  it('two images from one init image, 96×64, without guidance: same pixels, and they differ from each other', async () => {
    const result = await engine.generate({ prompt: 'a castle', seed: 9, steps: 10, guidance: 1, scheduler: 'euler-a', initImage: wideBytes, strength: 0.6, count: 2 });
    expect(result.request).toMatchObject({ width: 96, height: 64, count: 2 });
    const expected = await diffusersImg2ImgReference(dir, result.request, wide);
    for (const [i, image] of result.images.entries()) expect(maxByteDiff(image.rgb.data, expected[i]!)).toBe(0);
    expect(maxByteDiff(result.images[0]!.rgb.data, result.images[1]!.rgb.data)).toBeGreaterThan(0);
  });

  it('with width and height the init image is Lanczos-resized as Pillow does (oracle reads Pillow\'s own resize)', async () => {
    const result = await engine.generate({ prompt: 'a castle', seed: 5, steps: 10, scheduler: 'dpm++2m', initImage: wideBytes, strength: 0.75, width: 48, height: 32 });
    const expected = await diffusersImg2ImgReference(dir, result.request, join(images, 'init-96x64-lanczos-48x32.png'));
    expect(maxByteDiff(result.images[0]!.rgb.data, expected[0]!)).toBe(0);
  });

  it('the worker-thread backend carries the init image: same pixels as in-thread', async () => {
    const worker = await createEngine({ modelDir: dir, provider: 'cpu' });
    try {
      const request = { prompt: 'a boat', seed: 11, steps: 10, scheduler: 'unipc' as const, initImage: wideBytes, strength: 0.75 };
      const [a, b] = [await worker.generate(request), await engine.generate(request)];
      expect(maxByteDiff(a.images[0]!.rgb.data, b.images[0]!.rgb.data)).toBe(0);
    } finally {
      await worker.close();
    }
  });

  it('Heun at strength 0.75 runs the last 7 of 10 steps: progress 1/7 … 7/7 over 13 UNet calls', async () => {
    const progress: GenerationProgress[] = [];
    await engine.generate({ prompt: 'x', seed: 1, steps: 10, scheduler: 'heun', initImage: squareBytes, strength: 0.75 }, { onProgress: (p) => progress.push(p), previewEvery: 0 });
    expect(progress.map((p) => `${p.step}/${p.totalSteps}`)).toEqual(['1/7', '2/7', '3/7', '4/7', '5/7', '6/7', '7/7']);
  });

  it('previews and cancellation work in img2img', async () => {
    const controller = new AbortController();
    const seen: GenerationProgress[] = [];
    const run = engine.generate({ prompt: 'x', seed: 1, steps: 10, scheduler: 'euler', initImage: squareBytes, strength: 1 }, {
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p);
        if (p.step === 3) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(seen).toHaveLength(3);
    expect(seen[0]!.preview).toMatchObject({ width: 8, height: 8 });
  });

  it('refuses a strength that leaves no step, and strengths out of range, with one line', async () => {
    const refuse = async (request: Parameters<Engine['generate']>[0], message: string | RegExp) => {
      const error = await engine.generate(request).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).code).toBe('invalid-request');
      expect((error as EngineError).message).toMatch(message);
    };
    await refuse({ prompt: 'x', steps: 10, initImage: squareBytes, strength: 0.05 }, 'strength 0.05 × 10 steps leaves no step to run');
    await refuse({ prompt: 'x', initImage: squareBytes, strength: 0 }, 'strength must be a number above 0 and at most 1, got 0');
    await refuse({ prompt: 'x', initImage: squareBytes, strength: 1.5 }, 'strength must be a number above 0 and at most 1, got 1.5');
    await refuse({ prompt: 'x', strength: 0.5 }, 'strength applies only when starting from an init image');
    await refuse({ prompt: 'x', initImage: new TextEncoder().encode('not an image') }, 'init image: not a PNG, JPEG or WebP image');
  });
});

describe('a folder without vae_encoder/', () => {
  it('refuses img2img, naming the missing file', async () => {
    const engine = await createEngine({ modelDir: fixtureDir('parity-eps'), provider: 'cpu', backend: 'in-thread' });
    try {
      expect(engine.info.model.capabilities.img2img).toBe(false);
      await expect(engine.generate({ prompt: 'x', initImage: await readFile(square) })).rejects.toThrow(
        `parity-eps cannot start from an image: ${engine.info.model.path}/vae_encoder/model.onnx is missing (img2img needs the VAE encoder)`,
      );
    } finally {
      await engine.close();
    }
  });
});

describe('an older VAE-encoder export with a latent_sample output', () => {
  it('is used as it is, and the result says the run is not seed-exact', async () => {
    const work = await mkdtemp(join(tmpdir(), 'imagine-latent-sample-'));
    const model = join(work, 'old-export');
    await cp(dir, model, { recursive: true });
    await cp(new URL('../fixtures/vae-encoder-latent-sample/model.onnx', import.meta.url), join(model, 'vae_encoder', 'model.onnx'));
    const engine = await createEngine({ modelDir: model, provider: 'cpu', backend: 'in-thread' });
    try {
      const request = { prompt: 'x', seed: 2, steps: 10, scheduler: 'euler' as const, initImage: await readFile(square), strength: 0.5 };
      const result = await engine.generate(request);
      expect(result.notes).toEqual([expect.stringMatching(/^img2img is not seed-exact with this model: its vae_encoder samples the latents inside the graph/)]);
      expect(result.images[0]!.rgb).toMatchObject({ width: 64, height: 64 });
      const current = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread' });
      try {
        expect((await current.generate(request)).notes).toBeUndefined();
      } finally {
        await current.close();
      }
    } finally {
      await engine.close();
      await rm(work, { recursive: true, force: true });
    }
  });
});
