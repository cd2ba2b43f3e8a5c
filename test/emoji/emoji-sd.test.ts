import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type RgbImage } from '../../src/engine/index.ts';
import { defaultModelDir } from '../../src/models/default-model.ts';
import { EmojiJudge } from '../../scripts/emoji/judge.ts';

// The committed model: trained weights, so these tests run a network that learned something.
const REFERENCE = fileURLToPath(new URL('../fixtures/emoji-sd/red-apple-seed-1.png', import.meta.url));

/**
 * Evaluation prompts (training/eval-prompts.json) whose images the judge named correctly (top-1)
 * in `npm run models:evaluate` at the default settings, with the seed that run used (1000 + index).
 */
const JUDGED: readonly (readonly [prompt: string, seed: number, subcategory: string])[] = [
  ['beating heart', 1010, 'heart'],
  ['yin yang', 1079, 'religion'],
  ['waning crescent moon symbol', 1066, 'sky & weather'],
  ['face with diagonal mouth', 1003, 'face-concerned'],
  ['woman climbing', 1038, 'person-activity'],
  ['romania flag', 1097, 'country-flag'],
  ['clock face nine-thirty', 1063, 'time'],
];

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine({ modelDir: defaultModelDir(), provider: 'cpu', backend: 'in-thread' });
});
afterAll(async () => {
  await engine?.close();
});

async function draw(prompt: string, seed: number): Promise<RgbImage> {
  const result = await engine.generate({ prompt, seed });
  return result.images[0]!.rgb;
}

async function pngPixels(path: string): Promise<Buffer> {
  return sharp(await readFile(path)).removeAlpha().raw().toBuffer();
}

describe('emoji-sd, the default model', () => {
  it('is the default: 64×64 native, its own scheduler config, a VAE encoder beside the decoder', () => {
    expect(engine.info.model).toMatchObject({ name: 'emoji-sd', nativeWidth: 64, nativeHeight: 64, predictionType: 'epsilon', precision: 'float32' });
  });

  it('draws the same image for the same seed and prompt, run after run', async () => {
    const first = await draw('red apple', 1);
    const second = await draw('red apple', 1);
    expect({ width: first.width, height: first.height }).toEqual({ width: 64, height: 64 });
    expect(Buffer.from(second.data).equals(Buffer.from(first.data))).toBe(true);
    // The committed reference was drawn by this engine; allow only float rounding between CPUs.
    const reference = await pngPixels(REFERENCE);
    let worst = 0;
    for (let i = 0; i < reference.length; i++) worst = Math.max(worst, Math.abs(reference[i]! - first.data[i]!));
    expect(worst).toBeLessThanOrEqual(3);
  });

  it('different prompts give different pictures (the text reaches the UNet)', async () => {
    const apple = await draw('red apple', 1);
    const car = await draw('police car', 1);
    let difference = 0;
    for (let i = 0; i < apple.data.length; i++) difference += Math.abs(apple.data[i]! - car.data[i]!);
    expect(difference / apple.data.length).toBeGreaterThan(20);
  });

  it('the independent judge recognises the subcategory of what it drew', async () => {
    expect(JUDGED.length).toBeGreaterThanOrEqual(5);
    const judge = await EmojiJudge.load();
    try {
      for (const [prompt, seed, subcategory] of JUDGED) {
        const ranked = await judge.rank(await draw(prompt, seed));
        expect({ prompt, judged: ranked[0] }).toEqual({ prompt, judged: subcategory });
      }
    } finally {
      await judge.close();
    }
  });

  it('vae_encoder gives latent_parameters (mean then log-variance) that decode back to the image', async () => {
    const image = await draw('grinning face', 3);
    const dir = defaultModelDir();
    const encoder = await ort.InferenceSession.create(join(dir, 'vae_encoder', 'model.onnx'));
    const decoder = await ort.InferenceSession.create(join(dir, 'vae_decoder', 'model.onnx'));
    try {
      const planar = new Float32Array(3 * 64 * 64);
      for (let i = 0; i < 64 * 64; i++) for (let c = 0; c < 3; c++) planar[c * 4096 + i] = image.data[i * 3 + c]! / 127.5 - 1;
      const encoded = await encoder.run({ sample: new ort.Tensor('float32', planar, [1, 3, 64, 64]) });
      const parameters = encoded.latent_parameters!;
      expect(parameters.dims).toEqual([1, 8, 8, 8]);
      const mean = (parameters.data as Float32Array).slice(0, 4 * 64);
      const decoded = await decoder.run({ latent_sample: new ort.Tensor('float32', mean, [1, 4, 8, 8]) });
      const pixels = decoded.sample!.data as Float32Array;
      let error = 0;
      for (let i = 0; i < planar.length; i++) error += Math.abs(Math.max(-1, Math.min(1, pixels[i]!)) - planar[i]!);
      // Mean absolute error in 0..255 units: a faithful round trip, far from an unrelated image.
      expect((error / planar.length) * 127.5).toBeLessThan(12);
    } finally {
      await encoder.release();
      await decoder.release();
    }
  });

  it('img2img through the engine: a low strength keeps the init picture, full strength redraws it', async () => {
    const init = await readFile(REFERENCE);
    const initPixels = await pngPixels(REFERENCE);
    const distance = (image: RgbImage): number => {
      let sum = 0;
      for (let i = 0; i < initPixels.length; i++) sum += Math.abs(initPixels[i]! - image.data[i]!);
      return sum / initPixels.length;
    };
    const run = async (strength: number): Promise<RgbImage> =>
      (await engine.generate({ prompt: 'police car', seed: 7, initImage: init, strength })).images[0]!.rgb;
    const gentle = await run(0.2);
    const full = await run(1);
    expect({ width: gentle.width, height: gentle.height }).toEqual({ width: 64, height: 64 });
    // Measured: 19.9 at strength 0.2 against 51.8 at 1.0 (mean absolute difference, 0..255).
    expect(distance(gentle)).toBeLessThan(30);
    expect(distance(full)).toBeGreaterThan(2 * distance(gentle));
  });
});
