import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeModelFolder, findModelFolders } from '../../src/engine/catalog/model-entry.ts';
import { EngineError } from '../../src/engine/types.ts';

let root: string;

/** A folder with only the JSON files and placeholder graphs: describing it must not open any session. */
async function folder(name: string, index: object, parts: Record<string, string | object>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model_index.json'), JSON.stringify(index));
  for (const [path, content] of Object.entries(parts)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imagine-entry-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('describing a model folder without loading it', () => {
  it('SD 1.x with an encoder and a safety checker: sd, 512 px, text-to-image + img2img + safety checker', async () => {
    const dir = await folder('sd15', { _class_name: 'OnnxStableDiffusionPipeline' }, {
      'unet/config.json': { sample_size: 64, block_out_channels: [320, 640, 1280, 1280], attention_head_dim: 8, down_block_types: ['CrossAttnDownBlock2D'] },
      'unet/model.onnx': 'not really a graph, never opened',
      'unet/weights.pb': 'x'.repeat(1000),
      'vae_encoder/model.onnx': 'x',
      'safety_checker/model.onnx': 'x',
    });
    const entry = await describeModelFolder(dir);
    expect(entry).toMatchObject({ name: 'sd15', family: 'sd', nativeSize: 512, capabilities: { textToImage: true, img2img: true, safetyChecker: true, unconditional: false } });
    // Graph + weights + encoder + checker: 32 + 1000 + 1 + 1 bytes.
    expect(entry.memory.weightsBytes).toBe(1034);
  });

  it('SDXL by its class name, native size from sample_size × 8', async () => {
    for (const className of ['StableDiffusionXLPipeline', 'ORTStableDiffusionXLPipeline']) {
      const dir = await folder(`xl-${className}`, { _class_name: className }, { 'unet/config.json': { sample_size: 128 } });
      expect(await describeModelFolder(dir)).toMatchObject({ family: 'sdxl', nativeSize: 1024, capabilities: { textToImage: true, img2img: false, safetyChecker: false, unconditional: false } });
    }
  });

  it('DDPM and DDIM pipelines are unconditional and denoise pixels: native size is sample_size itself', async () => {
    for (const className of ['DDPMPipeline', 'DDIMPipeline']) {
      const dir = await folder(`uncond-${className}`, { _class_name: className }, { 'unet/config.json': { sample_size: 256 } });
      expect(await describeModelFolder(dir)).toMatchObject({ family: 'unconditional', nativeSize: 256, capabilities: { textToImage: false, img2img: false, safetyChecker: false, unconditional: true } });
    }
  });

  it('a folder without unet/config.json has no declared native size', async () => {
    const dir = await folder('bare', { _class_name: 'StableDiffusionPipeline' }, {});
    expect((await describeModelFolder(dir)).nativeSize).toBeUndefined();
  });

  it('refuses a pipeline class the engine does not run, naming the file', async () => {
    const dir = await folder('audio', { _class_name: 'AudioLDMPipeline' }, {});
    const error = await describeModelFolder(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).message).toMatch(
      new RegExp(`^${join(dir, 'model_index.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: pipeline class "AudioLDMPipeline" is not one this engine runs \\(it runs StableDiffusionPipeline, .*DDIMPipeline and their ONNX exports\\)$`),
    );
  });

  it('finds the model folders under a folder, or the folder itself when it is one', async () => {
    const found = await findModelFolders(root);
    expect(found.map((dir) => dir.slice(root.length + 1))).toContain('sd15');
    expect(found.every((dir) => !dir.endsWith('nothing'))).toBe(true);
    expect(await findModelFolders(join(root, 'sd15'))).toEqual([join(root, 'sd15')]);
    await expect(findModelFolders(join(root, 'nothing'))).rejects.toThrow(/models folder not found/);
  });
});
