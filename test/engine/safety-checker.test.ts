import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.ts';
import { parseClipPreprocessConfig } from '../../src/engine/safety/clip-preprocess.ts';
import { OnnxSafetyChecker } from '../../src/engine/safety/onnx-safety-checker.ts';
import { EngineError } from '../../src/engine/types.ts';
import { buildModel } from '../../src/models/builder/index.ts';
import { safetyPreprocessorConfig } from '../../src/models/builder/safety-checker.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imagine-safety-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const solid = (width: number, height: number, value: number) => ({ width, height, data: new Uint8Array(width * height * 3).fill(value) });

describe('OnnxSafetyChecker on the builder stand-in (flags a mean CLIP-normalised pixel above 1.5)', () => {
  it('flags a white image and passes a black or mid-grey one, per image and in order, whatever their size', async () => {
    const dir = join(root, 'checker');
    await buildModel(dir, { safetyChecker: true, components: ['vae_encoder'] });
    const session = await ort.InferenceSession.create(join(dir, 'safety_checker', 'model.onnx'));
    try {
      const checker = OnnxSafetyChecker.describe('safety_checker/model.onnx', session, parseClipPreprocessConfig('p.json', safetyPreprocessorConfig()));
      expect(await checker.check([solid(64, 40, 255), solid(16, 16, 0), solid(300, 200, 128), solid(8, 8, 250)])).toEqual([true, false, false, true]);
    } finally {
      await session.release();
    }
  });

  it('refuses at load a checker whose clip_input size differs from the feature extractor crop, naming the file', async () => {
    const dir = join(root, 'checker-crop');
    await buildModel(dir, { safetyChecker: true, components: ['vae_encoder'] });
    const session = await ort.InferenceSession.create(join(dir, 'safety_checker', 'model.onnx'));
    try {
      expect(() => OnnxSafetyChecker.describe('/m/safety_checker/model.onnx', session, parseClipPreprocessConfig('p.json', { size: 256, crop_size: 256 }))).toThrow(
        '/m/safety_checker/model.onnx: clip_input is 224×224 but feature_extractor/preprocessor_config.json crops to 256×256',
      );
    } finally {
      await session.release();
    }
  });
});

describe('the engine reports the checker’s flag per image and never alters the image', () => {
  it('flags every image with a threshold below any image, none above; safetyCheck: false runs no checker', async () => {
    const flagAll = join(root, 'flag-all');
    const flagNone = join(root, 'flag-none');
    await buildModel(flagAll, { safetyChecker: true, safetyThreshold: -10 });
    await buildModel(flagNone, { safetyChecker: true, safetyThreshold: 10 });
    const request = { prompt: 'a lighthouse', seed: 3, steps: 3, width: 64, height: 64, count: 2 };
    const all = await createEngine({ modelDir: flagAll, provider: 'cpu' });
    const none = await createEngine({ modelDir: flagNone, provider: 'cpu', backend: 'in-thread' });
    try {
      expect(all.info.model.capabilities.safetyChecker).toBe(true);
      const flagged = await all.generate(request);
      expect(flagged.images.map((i) => i.nsfw)).toEqual([true, true]);
      expect(flagged.timings.safetyCheckMs).toBeGreaterThan(0);
      const unchecked = await all.generate(request, { safetyCheck: false });
      expect(unchecked.images.map((i) => i.nsfw)).toEqual([undefined, undefined]);
      const passed = await none.generate(request);
      expect(passed.images.map((i) => i.nsfw)).toEqual([false, false]);
      // Same weights, same seed: a flagged image is the very image an unflagged run gives.
      for (let i = 0; i < 2; i++) {
        expect(Buffer.from(flagged.images[i]!.rgb.data).equals(Buffer.from(unchecked.images[i]!.rgb.data))).toBe(true);
        expect(Buffer.from(flagged.images[i]!.rgb.data).equals(Buffer.from(passed.images[i]!.rgb.data))).toBe(true);
      }
    } finally {
      await Promise.all([all.close(), none.close()]);
    }
  });

  it('a broken preprocessor_config.json fails the load with one line naming it', async () => {
    const dir = join(root, 'broken');
    await buildModel(dir, { safetyChecker: true });
    await writeFile(join(dir, 'feature_extractor', 'preprocessor_config.json'), JSON.stringify({ resample: 7 }));
    const error = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).message).toBe(
      `${join(dir, 'feature_extractor', 'preprocessor_config.json')}: "resample" 7 is not supported (1 Lanczos, 2 bilinear or 3 bicubic)`,
    );
  });
});
