import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.ts';
import { SCHEDULER_NAMES } from '../../src/engine/schedulers/scheduler.ts';
import { loadClipTokenizer } from '../../src/engine/tokenizer/clip-tokenizer.ts';
import type { Engine, GenerateRequest } from '../../src/engine/types.ts';
import { buildModel } from '../../src/models/builder/index.ts';
import { diffusersXlReference } from './diffusers-xl-oracle.ts';
import { fixtureDir } from './fixtures.ts';

function maxByteDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

async function expectDiffusersPixels(engine: Engine, dir: string, request: GenerateRequest): Promise<Uint8Array[]> {
  const result = await engine.generate(request);
  const expected = await diffusersXlReference(dir, result.request);
  expect(result.images).toHaveLength(expected.length);
  for (const [i, image] of result.images.entries()) expect(maxByteDiff(image.rgb.data, expected[i]!)).toBe(0);
  return result.images.map((image) => image.rgb.data);
}

describe('parity-xl: the engine equals the StableDiffusionXLPipeline transcription', () => {
  let engine: Engine;
  const dir = fixtureDir('parity-xl');
  beforeAll(async () => {
    engine = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread' });
  });
  afterAll(async () => {
    await engine.close();
  });

  it('reads the folder as SDXL: native 1024 from unet/config.json, Euler, text-to-image', () => {
    expect(engine.info.model).toMatchObject({
      family: 'sdxl',
      nativeWidth: 1024,
      nativeHeight: 1024,
      defaultScheduler: 'euler',
      capabilities: { textToImage: true, unconditional: false },
    });
  });

  for (const scheduler of SCHEDULER_NAMES) {
    it(`${scheduler}: guidance 5, a negative prompt, two images, odd size`, async () => {
      const images = await expectDiffusersPixels(engine, dir, {
        prompt: 'a red fox in the snow',
        negativePrompt: 'blurry, low quality',
        seed: 42,
        steps: 5,
        guidance: 5,
        scheduler,
        width: 40,
        height: 56,
        count: 2,
      });
      expect(maxByteDiff(images[0]!, images[1]!)).toBeGreaterThan(0);
    });
  }

  it('no negative prompt: zero negative embeddings (force_zeros_for_empty_prompt), unlike an empty one', async () => {
    const base = { prompt: 'a lighthouse', seed: 9, steps: 4, guidance: 6, scheduler: 'euler' as const, width: 48, height: 32 };
    const zeros = await expectDiffusersPixels(engine, dir, base);
    const empty = await expectDiffusersPixels(engine, dir, { ...base, negativePrompt: '' });
    expect(maxByteDiff(zeros[0]!, empty[0]!)).toBeGreaterThan(0);
  });

  for (const guidance of [0, 1]) {
    it(`guidance ${guidance}: no guidance batch, so the negative prompt has no effect`, async () => {
      const base = { prompt: 'a castle', seed: 3, steps: 4, guidance, scheduler: 'dpm++2m' as const, width: 32, height: 32 };
      const a = await expectDiffusersPixels(engine, dir, { ...base, negativePrompt: 'fog' });
      const b = await expectDiffusersPixels(engine, dir, base);
      expect(maxByteDiff(a[0]!, b[0]!)).toBe(0);
    });
  }

  it('time_ids follow the requested size: the same seed at another size is another image, still diffusers’', async () => {
    const base = { prompt: 'size matters', seed: 5, steps: 3, guidance: 4, scheduler: 'heun' as const };
    await expectDiffusersPixels(engine, dir, { ...base, width: 64, height: 24 });
    await expectDiffusersPixels(engine, dir, { ...base, width: 24, height: 64 });
  });

  it('progress counts the user’s steps', async () => {
    const steps: number[] = [];
    await engine.generate({ prompt: 'p', seed: 1, steps: 3, scheduler: 'heun', width: 16, height: 16 }, { onProgress: (p) => steps.push(p.step * 10 + p.totalSteps) });
    expect(steps).toEqual([13, 23, 33]);
  });
});

describe('parity-xl-turbo: SDXL-Turbo (Euler ancestral, trailing spacing) in 1–4 steps without guidance', () => {
  let engine: Engine;
  const dir = fixtureDir('parity-xl-turbo');
  beforeAll(async () => {
    engine = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread' });
  });
  afterAll(async () => {
    await engine.close();
  });

  it('native 512, Euler ancestral by default', () => {
    expect(engine.info.model).toMatchObject({ family: 'sdxl', nativeWidth: 512, nativeHeight: 512, defaultScheduler: 'euler-a' });
  });

  for (const steps of [1, 2, 3, 4]) {
    it(`${steps} step${steps > 1 ? 's' : ''}, guidance 0`, async () => {
      await expectDiffusersPixels(engine, dir, { prompt: 'a cinematic shot of a raccoon', seed: 123 + steps, steps, guidance: 0, width: 64, height: 64, count: steps === 2 ? 2 : 1 });
    });
  }

  it('the worker-thread backend gives the same image, with SDXL previews', async () => {
    const worker = await createEngine({ modelDir: dir, provider: 'cpu' });
    try {
      const request = { prompt: 'same either way', seed: 4, steps: 2, guidance: 0, width: 64, height: 48 };
      const previews: number[] = [];
      const a = await worker.generate(request, { onProgress: (p) => p.preview && previews.push(p.preview.width * 1000 + p.preview.height) });
      const b = await engine.generate(request);
      expect(Buffer.compare(a.images[0]!.png, b.images[0]!.png)).toBe(0);
      expect(previews).toEqual([8006, 8006]);
    } finally {
      await worker.close();
    }
  });

  it('one step at the native size', async () => {
    const result = await engine.generate({ prompt: 'full size', seed: 1, steps: 1, guidance: 0 });
    expect(result.request).toMatchObject({ width: 512, height: 512, scheduler: 'euler-a' });
    const expected = await diffusersXlReference(dir, result.request);
    expect(maxByteDiff(result.images[0]!.rgb.data, expected[0]!)).toBe(0);
  });
});

describe('SDXL folder details', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'imagine-sdxl-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('tokenizer_2 pads with "!" and tokenizer with <|endoftext|>, each from its own config', async () => {
    const dir = fixtureDir('parity-xl');
    const vocab = JSON.parse(await readFile(join(dir, 'tokenizer', 'vocab.json'), 'utf8')) as Record<string, number>;
    const first = await loadClipTokenizer(join(dir, 'tokenizer'));
    const second = await loadClipTokenizer(join(dir, 'tokenizer_2'));
    expect(first.encode('a fox').at(-1)).toBe(vocab['<|endoftext|>']);
    expect(second.encode('a fox').at(-1)).toBe(vocab['!']);
    expect(first.encode('a fox').slice(0, 4)).toEqual(second.encode('a fox').slice(0, 4));
  });

  it('force_zeros_for_empty_prompt false: no negative prompt encodes "" as diffusers does', async () => {
    const dir = join(root, 'no-force-zeros');
    await cp(fixtureDir('parity-xl'), dir, { recursive: true });
    const indexPath = join(dir, 'model_index.json');
    const index = JSON.parse(await readFile(indexPath, 'utf8')) as Record<string, unknown>;
    await writeFile(indexPath, JSON.stringify({ ...index, force_zeros_for_empty_prompt: false }));
    const engine = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread' });
    try {
      const base = { prompt: 'a lighthouse', seed: 9, steps: 3, guidance: 6, scheduler: 'euler' as const, width: 32, height: 32 };
      const absent = await expectDiffusersPixels(engine, dir, base);
      const empty = await expectDiffusersPixels(engine, dir, { ...base, negativePrompt: '' });
      expect(maxByteDiff(absent[0]!, empty[0]!)).toBe(0);
    } finally {
      await engine.close();
    }
  });
});

describe('tiny-sdxl (the builder’s SDXL) through the engine', () => {
  let root: string;
  let dir: string;
  let engine: Engine;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'imagine-tiny-sdxl-'));
    dir = join(root, 'tiny-sdxl');
    await buildModel(dir, { preset: 'tiny-sdxl' });
    engine = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread' });
  });
  afterAll(async () => {
    await engine.close();
    await rm(root, { recursive: true, force: true });
  });

  it('loads as SDXL at its native 512', () => {
    expect(engine.info.model).toMatchObject({ family: 'sdxl', nativeWidth: 512, defaultScheduler: 'euler' });
  });

  for (const scheduler of ['euler', 'heun', 'dpm++2m-karras'] as const) {
    it(`${scheduler}: the pipeline transcription’s pixels, guided, two images`, async () => {
      await expectDiffusersPixels(engine, dir, { prompt: 'a watercolor fox', negativePrompt: 'blurry', seed: 77, steps: 4, guidance: 6, scheduler, width: 48, height: 40, count: 2 });
    });
  }

  it('a float16 build (weights, every input and output in half precision) gives nearly the float32 image', async () => {
    const half = join(root, 'tiny-sdxl-fp16');
    await buildModel(half, { preset: 'tiny-sdxl', float16: true });
    const halfEngine = await createEngine({ modelDir: half, provider: 'cpu', backend: 'in-thread' });
    try {
      expect(halfEngine.info.model.precision).toBe('float16');
      const request = { prompt: 'a fox', seed: 1, steps: 4, guidance: 5, width: 48, height: 48 };
      const a = (await halfEngine.generate(request)).images[0]!.rgb.data;
      const b = (await engine.generate(request)).images[0]!.rgb.data;
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
      expect(sum / a.length).toBeLessThan(1);
    } finally {
      await halfEngine.close();
    }
  });

  it('no negative prompt (zeros) and guidance off both match too', async () => {
    await expectDiffusersPixels(engine, dir, { prompt: 'a watercolor fox', seed: 78, steps: 3, guidance: 6, width: 32, height: 32 });
    await expectDiffusersPixels(engine, dir, { prompt: 'a watercolor fox', seed: 78, steps: 3, guidance: 0, width: 32, height: 32 });
  });
});
