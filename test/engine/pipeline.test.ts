import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from 'node:worker_threads';
import { WorkerThreadBackend } from '../../src/engine/backends/worker-thread.ts';
import { createEngine } from '../../src/engine/engine.ts';
import { silentLogger } from '../../src/engine/logger.ts';
import { parseParameters } from '../../src/engine/output/parameters.ts';
import { readTextChunks } from '../../src/engine/output/png.ts';
import { SCHEDULER_NAMES } from '../../src/engine/schedulers/scheduler.ts';
import { EngineError, type Engine, type GenerationProgress } from '../../src/engine/types.ts';
import { diffusersReference } from './diffusers-oracle.ts';
import { fixtureDir } from './fixtures.ts';

function maxByteDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe.each(['parity-eps', 'parity-v-int64'] as const)('%s: engine equals the diffusers pipeline transcription', (fixture) => {
  let engine: Engine;
  const dir = fixtureDir(fixture);
  beforeAll(async () => {
    engine = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread' });
  });
  afterAll(async () => {
    await engine.close();
  });

  it('reads the model: SD 1.5 scheduler, native 512 px, prediction type', () => {
    expect(engine.info.model).toMatchObject({ family: 'sd', defaultScheduler: 'pndm', nativeWidth: 512, nativeHeight: 512, precision: 'float32' });
    expect(engine.info.model.capabilities).toMatchObject({ textToImage: true, unconditional: false });
    expect(engine.info.model.predictionType).toBe(fixture === 'parity-v-int64' ? 'v_prediction' : 'epsilon');
    expect(engine.info.provider).toBe('cpu');
  });

  for (const scheduler of SCHEDULER_NAMES) {
    it(`${scheduler}: guidance 7.5, negative prompt, two images, odd size`, async () => {
      const request = { prompt: 'a red fox in the snow', negativePrompt: 'blurry, low quality', seed: 1234, steps: 7, guidance: 7.5, scheduler, width: 40, height: 56, count: 2 };
      const result = await engine.generate(request);
      const expected = await diffusersReference(dir, result.request);
      expect(result.request).toEqual(request);
      expect(result.images).toHaveLength(2);
      for (const [i, image] of result.images.entries()) {
        expect(image.rgb).toMatchObject({ width: 40, height: 56 });
        expect(maxByteDiff(image.rgb.data, expected[i]!)).toBe(0);
      }
      // The two images of a batch come from one generator stream, so they differ.
      expect(maxByteDiff(result.images[0]!.rgb.data, result.images[1]!.rgb.data)).toBeGreaterThan(0);
    });
  }

  it('guidance ≤ 1 runs without the unconditional side, so the negative prompt has no effect', async () => {
    const base = { prompt: 'a castle', seed: 7, steps: 5, guidance: 1, scheduler: 'euler' as const, width: 32, height: 32 };
    const a = await engine.generate({ ...base, negativePrompt: 'one thing' });
    const b = await engine.generate({ ...base, negativePrompt: 'something else entirely' });
    expect(maxByteDiff(a.images[0]!.rgb.data, b.images[0]!.rgb.data)).toBe(0);
    expect(maxByteDiff(a.images[0]!.rgb.data, (await diffusersReference(dir, a.request))[0]!)).toBe(0);
    const guided = await engine.generate({ ...base, guidance: 3, negativePrompt: 'one thing' });
    expect(maxByteDiff(guided.images[0]!.rgb.data, a.images[0]!.rgb.data)).toBeGreaterThan(0);
  });

  it('the same seed gives the same image; another seed another image', async () => {
    const base = { prompt: 'a boat', steps: 4, scheduler: 'euler-a' as const, width: 32, height: 32 };
    const a = await engine.generate({ ...base, seed: 99 });
    const b = await engine.generate({ ...base, seed: 99 });
    const c = await engine.generate({ ...base, seed: 100 });
    expect(Buffer.compare(a.images[0]!.png, b.images[0]!.png)).toBe(0);
    expect(maxByteDiff(a.images[0]!.rgb.data, c.images[0]!.rgb.data)).toBeGreaterThan(0);
  });
});

describe('requests, results and progress (worker backend)', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ modelDir: fixtureDir('parity-eps'), provider: 'cpu' });
  });
  afterAll(async () => {
    await engine.close();
  });

  it('fills defaults: model size and scheduler, 25 steps, guidance 7.5, a random seed it reports', async () => {
    const result = await engine.generate({ prompt: 'defaults' }, { previewEvery: 0 });
    expect(result.request).toMatchObject({ width: 512, height: 512, scheduler: 'pndm', steps: 25, guidance: 7.5, count: 1 });
    expect(result.request.negativePrompt).toBeUndefined();
    expect(Number.isInteger(result.request.seed) && result.request.seed >= 0 && result.request.seed <= 0xffffffff).toBe(true);
    const png = result.images[0]!.png;
    expect(await sharp(png).metadata()).toMatchObject({ width: 512, height: 512, format: 'png' });
    const parsed = parseParameters(readTextChunks(png).parameters!);
    expect(parsed.prompt).toBe('defaults');
    expect(parsed.fields).toMatchObject({ Seed: String(result.request.seed), Steps: '25', Sampler: 'PLMS', Size: '512x512', Model: 'parity-eps' });
  });

  it('matches the in-thread backend exactly', async () => {
    const request = { prompt: 'same either way', seed: 5, steps: 6, scheduler: 'dpm++2m' as const, width: 48, height: 32 };
    const inThread = await createEngine({ modelDir: fixtureDir('parity-eps'), provider: 'cpu', backend: 'in-thread' });
    try {
      const a = await engine.generate(request);
      const b = await inThread.generate(request);
      expect(Buffer.compare(a.images[0]!.png, b.images[0]!.png)).toBe(0);
    } finally {
      await inThread.close();
    }
  });

  it('reports every user step once, with latent-size previews at the asked interval', async () => {
    const seen: GenerationProgress[] = [];
    // Heun evaluates the UNet 2·6 − 1 = 11 times for 6 steps; progress counts the 6 steps.
    await engine.generate({ prompt: 'progress', seed: 1, steps: 6, scheduler: 'heun', width: 64, height: 48 }, { previewEvery: 4, onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen.every((p) => p.totalSteps === 6)).toBe(true);
    expect(seen.filter((p) => p.preview).map((p) => p.step)).toEqual([4, 6]);
    const preview = seen.at(-1)!.preview!;
    expect(preview).toMatchObject({ width: 8, height: 6 });
    expect(preview.data).toHaveLength(8 * 6 * 3);
  });

  it('cancels between steps with an AbortSignal, and serves the next job', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const error = await engine
      .generate({ prompt: 'stop me', steps: 50, width: 64, height: 64 }, {
        signal: controller.signal,
        onProgress: (p) => {
          seen.push(p.step);
          if (p.step === 3) controller.abort();
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('cancelled');
    expect(seen.length).toBeLessThan(50);
    const next = await engine.generate({ prompt: 'next', steps: 2, width: 64, height: 64 });
    expect(next.images).toHaveLength(1);
  });

  it('a worker that dies fails its job with a clear error, and the next job gets a fresh worker', async () => {
    const backend = new WorkerThreadBackend({ modelDir: fixtureDir('parity-eps'), provider: 'cpu', logger: silentLogger });
    const crashing = await createEngine({ modelDir: fixtureDir('parity-eps'), backend });
    try {
      const worker = (backend as unknown as { worker: Worker }).worker;
      const error = await crashing
        .generate({ prompt: 'doomed', steps: 50, width: 64, height: 64 }, { onProgress: (p) => void (p.step === 2 && worker.terminate()) })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).code).toBe('engine-failed');
      expect((error as EngineError).message).toMatch(/engine worker exited unexpectedly/);
      const next = await crashing.generate({ prompt: 'after the crash', steps: 2, width: 64, height: 64 });
      expect(next.images).toHaveLength(1);
    } finally {
      await crashing.close();
    }
  });

  it('an already-aborted signal never starts', async () => {
    const error = await engine.generate({ prompt: 'x', steps: 2 }, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect((error as EngineError).code).toBe('cancelled');
  });

  const invalid: [string, Record<string, unknown>, RegExp][] = [
    ['empty prompt', { prompt: '  ' }, /prompt must not be empty/],
    ['steps 0', { steps: 0 }, /steps must be a whole number from 1 to 150, got 0/],
    ['steps 151', { steps: 151 }, /steps must be a whole number from 1 to 150/],
    ['fractional steps', { steps: 2.5 }, /steps must be a whole number/],
    ['guidance 31', { guidance: 31 }, /guidance must be a number from 0 to 30/],
    ['negative guidance', { guidance: -1 }, /guidance must be a number from 0 to 30/],
    ['seed 2^32', { seed: 2 ** 32 }, /seed must be a whole number from 0 to 4294967295/],
    ['negative seed', { seed: -1 }, /seed must be a whole number/],
    ['width not a multiple of 8', { width: 500 }, /width must be a multiple of 8/],
    ['height zero', { height: 0 }, /height must be a multiple of 8/],
    ['count 5', { count: 5 }, /count must be a whole number from 1 to 4/],
    ['unknown scheduler', { scheduler: 'k_dpm_fast' }, /scheduler must be one of ddim, ddpm/],
  ];
  for (const [name, fields, message] of invalid) {
    it(`rejects ${name}`, async () => {
      const error = await engine.generate({ prompt: 'ok', ...fields } as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).code).toBe('invalid-request');
      expect((error as EngineError).message).toMatch(message);
    });
  }
});
