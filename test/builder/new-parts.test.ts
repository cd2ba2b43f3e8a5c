import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildOptionsError, buildDdpmModel, buildModel } from '../../src/models/builder/index.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imagine-builder-parts-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function json(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

describe('vae_encoder and the stand-in safety checker', () => {
  let dir: string;
  beforeAll(async () => {
    dir = join(root, 'safe');
    await buildModel(dir, { safetyChecker: true, safetyThreshold: 0.25, components: ['vae_encoder'] });
  });

  it('lists the parts in model_index.json and writes SD 1.x preprocessor_config.json', async () => {
    expect(await json(join(dir, 'model_index.json'))).toMatchObject({
      vae_encoder: ['diffusers', 'OnnxRuntimeModel'],
      safety_checker: ['diffusers', 'OnnxRuntimeModel'],
      feature_extractor: ['transformers', 'CLIPImageProcessor'],
      requires_safety_checker: true,
    });
    expect(await json(join(dir, 'feature_extractor', 'preprocessor_config.json'))).toMatchObject({ size: 224, crop_size: 224, resample: 3 });
  });

  it('the encoder maps [1, 3, 8h, 8w] images to latent_parameters [1, 8, h, w] with a narrow log-variance', async () => {
    const session = await ort.InferenceSession.create(join(dir, 'vae_encoder', 'model.onnx'));
    const pixels = Float32Array.from({ length: 3 * 40 * 24 }, (_, i) => Math.sin(i) * 0.8);
    const out = (await session.run({ sample: new ort.Tensor('float32', pixels, [1, 3, 40, 24]) })).latent_parameters!;
    expect(out.dims).toEqual([1, 8, 5, 3]);
    const data = out.data as Float32Array;
    const logvar = data.subarray(4 * 15);
    expect(logvar.every((v) => v < -2)).toBe(true);
    await session.release();
  });

  it('the checker flags exactly the inputs whose mean clip_input exceeds the threshold, and passes images through', async () => {
    const session = await ort.InferenceSession.create(join(dir, 'safety_checker', 'model.onnx'));
    const clip = new Float32Array(2 * 3 * 224 * 224);
    clip.fill(0.2, 0, clip.length / 2);
    clip.fill(0.3, clip.length / 2);
    const images = Float32Array.from({ length: 2 * 4 * 4 * 3 }, (_, i) => i / 100);
    const out = await session.run({ clip_input: new ort.Tensor('float32', clip, [2, 3, 224, 224]), images: new ort.Tensor('float32', images, [2, 4, 4, 3]) });
    expect(Array.from(out.has_nsfw_concepts!.data as Uint8Array)).toEqual([0, 1]);
    expect(Array.from(out.out_images!.data as Float32Array)).toEqual(Array.from(images));
    await session.release();
  });
});

describe('tiny-ddpm', () => {
  it("has DDPMPipeline's layout, celebahq's scheduler config and a pixel-space UNet", async () => {
    const dir = join(root, 'ddpm');
    await buildDdpmModel(dir);
    expect(await json(join(dir, 'model_index.json'))).toMatchObject({ _class_name: 'DDPMPipeline', scheduler: ['diffusers', 'DDPMScheduler'] });
    expect(await json(join(dir, 'scheduler', 'scheduler_config.json'))).toMatchObject({ clip_sample: true, variance_type: 'fixed_small', beta_end: 0.02 });
    expect(await json(join(dir, 'unet', 'config.json'))).toMatchObject({ _class_name: 'UNet2DModel', sample_size: 32, in_channels: 3 });
    const session = await ort.InferenceSession.create(join(dir, 'unet', 'model.onnx'));
    const run = async (t: bigint) =>
      (
        await session.run({
          sample: new ort.Tensor('float32', new Float32Array(2 * 3 * 16 * 8).fill(0.1), [2, 3, 16, 8]),
          timestep: new ort.Tensor('int64', BigInt64Array.of(t), [1]),
        })
      ).out_sample!;
    const early = await run(10n);
    expect(early.dims).toEqual([2, 3, 16, 8]);
    // The prediction depends on the timestep.
    expect(Array.from(early.data as Float32Array)).not.toEqual(Array.from((await run(900n)).data as Float32Array));
    await session.release();
  });

  it('refuses bad options with one line', async () => {
    await expect(buildDdpmModel(join(root, 'bad'), { channels: 12 })).rejects.toThrow(BuildOptionsError);
    await expect(buildDdpmModel(join(root, 'bad'), { sampleSize: 4 })).rejects.toThrow('sample size must be an integer of at least 8; got 4');
  });
});
