import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.ts';
import type { EngineLogger } from '../../src/engine/logger.ts';
import { ortErrorDetail } from '../../src/engine/pipeline/run-session.ts';
import { EngineError, type GenerateRequest } from '../../src/engine/types.ts';
import { fixtureDir } from './fixtures.ts';
import { addFloatInput, editOnnx, fixInputDim, setInitializer, setInt64Initializer } from './onnx-edit.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imagine-checks-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let copies = 0;
async function copyOf(fixture: 'parity-eps' | 'parity-xl', damage: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(root, `${fixture}-${copies++}`);
  await cp(fixtureDir(fixture), dir, { recursive: true });
  await damage(dir);
  return dir;
}

async function loadError(dir: string): Promise<EngineError> {
  const error = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread' }).then(
    async (engine) => {
      await engine.close();
      throw new Error('expected the model to be refused');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngineError);
  expect((error as EngineError).code).toBe('model-invalid');
  expect((error as EngineError).message).not.toContain('\n');
  return error as EngineError;
}

async function generateError(dir: string, request: GenerateRequest): Promise<EngineError> {
  const engine = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread' });
  try {
    const error = await engine.generate(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).message).not.toContain('\n');
    return error as EngineError;
  } finally {
    await engine.close();
  }
}

async function editIndex(dir: string, change: (index: Record<string, unknown>) => void): Promise<void> {
  const path = join(dir, 'model_index.json');
  const index = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  change(index);
  await writeFile(path, JSON.stringify(index));
}

describe('load-time checks: one line naming the file', () => {
  it('an unknown pipeline class', async () => {
    const dir = await copyOf('parity-eps', (d) => editIndex(d, (index) => void (index._class_name = 'StableDiffusionInpaintPipeline')));
    const error = await loadError(dir);
    expect(error.message).toContain(join(dir, 'model_index.json'));
    expect(error.message).toMatch(/pipeline class "StableDiffusionInpaintPipeline" is not one this engine runs \(it runs StableDiffusionPipeline, .*StableDiffusionXLPipeline/);
  });

  it('a UNet input the engine cannot fill', async () => {
    const dir = await copyOf('parity-eps', (d) => editOnnx(join(d, 'unet/model.onnx'), (m) => addFloatInput(m, 'controlnet_cond', ['batch', 3, 'h', 'w'])));
    const error = await loadError(dir);
    expect(error.message).toContain(join(dir, 'unet/model.onnx'));
    expect(error.message).toMatch(/input "controlnet_cond" is not one the engine knows how to fill for Stable Diffusion models \(it fills sample, timestep, encoder_hidden_states, timestep_cond\)/);
  });

  it('an SDXL UNet without time_ids', async () => {
    const dir = await copyOf('parity-xl', (d) => cp(fixtureDir('parity-eps') + '/unet/model.onnx', join(d, 'unet/model.onnx')));
    const error = await loadError(dir);
    expect(error.message).toContain(join(dir, 'unet/model.onnx'));
    expect(error.message).toMatch(/has no input named text_embeds \(it has: sample, timestep, encoder_hidden_states\); SDXL UNets need it/);
  });

  it('an SDXL text encoder without hidden_states outputs', async () => {
    const dir = await copyOf('parity-xl', (d) => cp(fixtureDir('parity-eps') + '/text_encoder/model.onnx', join(d, 'text_encoder_2/model.onnx')));
    const error = await loadError(dir);
    expect(error.message).toContain(join(dir, 'text_encoder_2/model.onnx'));
    expect(error.message).toMatch(/has no hidden_states\.N outputs/);
  });

  it('an SDXL folder missing text_encoder_2', async () => {
    const dir = await copyOf('parity-xl', (d) => rm(join(d, 'text_encoder_2/model.onnx')));
    const error = await loadError(dir);
    expect(error.message).toBe(`${join(dir, 'text_encoder_2/model.onnx')}: file is missing`);
  });

  it('a VAE decoder exported for a fixed batch of 2', async () => {
    const dir = await copyOf('parity-eps', (d) => editOnnx(join(d, 'vae_decoder/model.onnx'), (m) => fixInputDim(m, 'latent_sample', 0, 2)));
    const error = await loadError(dir);
    expect(error.message).toContain(join(dir, 'vae_decoder/model.onnx'));
    expect(error.message).toMatch(/fixed batch of 2/);
  });

  it('the family comes from the parts when model_index.json names no class', async () => {
    const dir = await copyOf('parity-xl', (d) => editIndex(d, (index) => void delete index._class_name));
    const engine = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread' });
    expect(engine.info.model.family).toBe('sdxl');
    await engine.close();
  });

  it('no sample_size in unet/config.json: the family’s usual size, with a logged warning', async () => {
    const warnings: string[] = [];
    const logger: EngineLogger = { debug() {}, info() {}, error() {}, warn: (_obj, msg) => void warnings.push(msg ?? '') };
    const dir = await copyOf('parity-xl', (d) => rm(join(d, 'unet/config.json')));
    const engine = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread', logger });
    expect(engine.info.model).toMatchObject({ nativeWidth: 1024, nativeHeight: 1024 });
    await engine.close();
    expect(warnings).toEqual([expect.stringMatching(/unet\/config\.json has no sample_size: assuming a native size of 1024 px for a sdxl model/)]);
  });
});

describe('a UNet exported for a fixed batch runs in chunks of that batch', () => {
  const cases: [string, Partial<GenerateRequest>][] = [
    ['guidance 1, one image (batch 1 padded to 2)', { guidance: 1, count: 1 }],
    ['guidance 7.5, one image (batch 2 as exported)', { guidance: 7.5, count: 1 }],
    ['guidance 7.5, three images (batch 6 in three runs)', { guidance: 7.5, count: 3 }],
    ['guidance 0, three images (batch 3: two runs, the last padded)', { guidance: 0, count: 3 }],
  ];
  for (const [name, fields] of cases) {
    it(name, async () => {
      const dir = await copyOf('parity-eps', (d) => editOnnx(join(d, 'unet/model.onnx'), (m) => fixInputDim(m, 'sample', 0, 2)));
      const request: GenerateRequest = { prompt: 'fixed', negativePrompt: 'loose', seed: 8, steps: 3, scheduler: 'euler-a', width: 24, height: 16, ...fields };
      const fixed = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread' });
      const free = await createEngine({ modelDir: fixtureDir('parity-eps'), provider: 'cpu', backend: 'in-thread' });
      try {
        const a = await fixed.generate(request);
        const b = await free.generate(request);
        expect(a.images.map((i) => Buffer.from(i.rgb.data).toString('base64'))).toEqual(b.images.map((i) => Buffer.from(i.rgb.data).toString('base64')));
      } finally {
        await fixed.close();
        await free.close();
      }
    });
  }
});

describe('numeric failures are errors, never images', () => {
  const request: GenerateRequest = { prompt: 'overflow', seed: 1, steps: 3, scheduler: 'euler', width: 16, height: 16 };

  it('NaN from the UNet', async () => {
    const dir = await copyOf('parity-eps', (d) => editOnnx(join(d, 'unet/model.onnx'), (m) => setInitializer(m, 'c05', Number.NaN)));
    const error = await generateError(dir, request);
    expect(error.code).toBe('engine-failed');
    expect(error.message).toMatch(/^the UNet produced NaN values at step 1 of 3; /);
  });

  it('infinite values from the UNet', async () => {
    const dir = await copyOf('parity-eps', (d) => editOnnx(join(d, 'unet/model.onnx'), (m) => setInitializer(m, 'c1', Number.POSITIVE_INFINITY)));
    const error = await generateError(dir, { ...request, scheduler: 'heun' });
    expect(error.message).toMatch(/^the UNet produced infinite values at step 1 of 3; /);
  });

  it('NaN from the VAE decoder on the first of two images, with the fp32 / fp16-fix advice', async () => {
    const dir = await copyOf('parity-eps', (d) => editOnnx(join(d, 'vae_decoder/model.onnx'), (m) => setInitializer(m, 'w', Number.NaN)));
    const error = await generateError(dir, { ...request, count: 2 });
    expect(error.code).toBe('engine-failed');
    expect(error.message).toMatch(/^the VAE decoder produced NaN values for image 1 of 2; .*float32 or an fp16-fix VAE/);
  });

  it('a NaN bias in the VAE decoder', async () => {
    const dir = await copyOf('parity-eps', (d) => editOnnx(join(d, 'vae_decoder/model.onnx'), (m) => setInitializer(m, 'b', Number.NaN)));
    const error = await generateError(dir, request);
    expect(error.message).toMatch(/^the VAE decoder produced NaN values for the image; .*fp16-fix VAE/);
  });
});

describe('ONNX Runtime errors keep their useful part', () => {
  it('a load failure: the reason, without C++ signatures', async () => {
    const dir = await copyOf('parity-eps', (d) => editOnnx(join(d, 'vae_decoder/model.onnx'), (m) => setInitializer(m, 'scales', Number.POSITIVE_INFINITY)));
    const error = await loadError(dir);
    expect(error.message).toBe(`${join(dir, 'vae_decoder/model.onnx')}: ONNX Runtime could not load it: Exception during initialization: ScalesValidation Scale value must be finite.`);
  });

  it('a failing node: the reason survives, on one line', async () => {
    const dir = await copyOf('parity-eps', (d) => editOnnx(join(d, 'unet/model.onnx'), (m) => setInt64Initializer(m, 'shp', [3, 1, 1, 1])));
    const error = await generateError(dir, { prompt: 'reshape', seed: 1, steps: 2, width: 16, height: 16 });
    expect(error.code).toBe('engine-failed');
    expect(error.message).toMatch(/^unet failed while running: .*Reshape.*cannot be reshaped/);
    expect(error.message).not.toMatch(/onnxruntime_src|\.cc:\d+/);
  });

  it('multi-line messages are joined, C++ locations dropped, long ones cut', () => {
    const raw =
      "Non-zero status code returned while running Conv node. Name:'/conv_in/Conv' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/nn/conv_attributes.h:101 onnxruntime::common::Status onnxruntime::ConvAttributes::ValidateInputShape(const onnxruntime::Tensor*, const onnxruntime::Tensor*) const X num_dims does not match W num_dims.\nX: {1,3,8,8} W: {8,4,3,3}\n";
    expect(ortErrorDetail(new Error(raw))).toBe(
      "Non-zero status code returned while running Conv node. Name:'/conv_in/Conv' Status Message: X num_dims does not match W num_dims. X: {1,3,8,8} W: {8,4,3,3}",
    );
    const long = ortErrorDetail(new Error('x'.repeat(1000)));
    expect(long).toHaveLength(400);
    expect(long.endsWith('…')).toBe(true);
  });
});
