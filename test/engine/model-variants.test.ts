import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.ts';
import { EngineError, type GenerateRequest, type GenerateResult } from '../../src/engine/types.ts';
import { buildModel, type BuildModelOptions } from '../../src/models/builder/index.ts';
import { fixtureDir } from './fixtures.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imagine-variants-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function built(name: string, options: BuildModelOptions = {}): Promise<string> {
  const dir = join(root, name);
  await buildModel(dir, options);
  return dir;
}

async function generate(modelDir: string, request: GenerateRequest): Promise<GenerateResult> {
  const engine = await createEngine({ modelDir, provider: 'cpu', backend: 'in-thread' });
  try {
    return await engine.generate(request);
  } finally {
    await engine.close();
  }
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

const integerTimesteps: GenerateRequest = { prompt: 'a tiny test', seed: 3, steps: 4, scheduler: 'ddim', width: 64, height: 64 };
// Euler with 7 steps puts timesteps between integers (999 · k/6), where an int64 input truncates.
const fractionalTimesteps: GenerateRequest = { ...integerTimesteps, scheduler: 'euler', steps: 7 };

describe('the tiny model and its variants run through the engine', () => {
  let reference: GenerateResult;
  let referenceDir: string;
  beforeAll(async () => {
    referenceDir = await built('tiny');
    reference = await generate(referenceDir, integerTimesteps);
  });

  it('tiny-sd: SD 1.5 layout, native 512, PNDM by default', async () => {
    const engine = await createEngine({ modelDir: referenceDir, provider: 'cpu', backend: 'in-thread' });
    expect(engine.info.model).toMatchObject({ nativeWidth: 512, defaultScheduler: 'pndm', predictionType: 'epsilon', precision: 'float32' });
    await engine.close();
    expect(reference.images[0]!.rgb).toMatchObject({ width: 64, height: 64 });
  });

  it('any multiple of 8: 40×56 and 8×8 images', async () => {
    for (const [width, height] of [[40, 56], [8, 8]] as const) {
      const result = await generate(referenceDir, { ...integerTimesteps, width, height, count: 2 });
      expect(result.images.map((image) => [image.rgb.width, image.rgb.height])).toEqual([[width, height], [width, height]]);
    }
  });

  it('int64 input_ids give the same image as int32', async () => {
    const dir = await built('ids-int64', { inputIdsDtype: 'int64' });
    const session = await ort.InferenceSession.create(join(dir, 'text_encoder', 'model.onnx'));
    expect(session.inputMetadata[0]).toMatchObject({ name: 'input_ids', type: 'int64' });
    await session.release();
    const result = await generate(dir, integerTimesteps);
    expect(meanAbsDiff(result.images[0]!.rgb.data, reference.images[0]!.rgb.data)).toBe(0);
  });

  for (const shape of ['scalar', 'batch'] as const) {
    it(`timestep shaped ${shape === 'scalar' ? '[]' : '[batch]'} gives the same image as [1]`, async () => {
      const result = await generate(await built(`ts-${shape}`, { timestepShape: shape }), integerTimesteps);
      expect(meanAbsDiff(result.images[0]!.rgb.data, reference.images[0]!.rgb.data)).toBe(0);
    });
  }

  it('an int64 timestep equals float32 on integer timesteps and truncates fractional ones, as diffusers casts', async () => {
    const int64Dir = await built('ts-int64', { timestepDtype: 'int64' });
    const sameOnIntegers = await generate(int64Dir, integerTimesteps);
    expect(meanAbsDiff(sameOnIntegers.images[0]!.rgb.data, reference.images[0]!.rgb.data)).toBe(0);
    const floatEuler = await generate(referenceDir, fractionalTimesteps);
    const intEuler = await generate(int64Dir, fractionalTimesteps);
    expect(meanAbsDiff(floatEuler.images[0]!.rgb.data, intEuler.images[0]!.rgb.data)).toBeGreaterThan(0);
  });

  it('a float16 model (weights, inputs and outputs in half precision) gives nearly the float32 image', async () => {
    const dir = await built('fp16', { float16: true, timestepDtype: 'float16' });
    const engine = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread' });
    expect(engine.info.model.precision).toBe('float16');
    const result = await engine.generate(integerTimesteps);
    await engine.close();
    expect(meanAbsDiff(result.images[0]!.rgb.data, reference.images[0]!.rgb.data)).toBeLessThan(3);
  });

  it('external weights (weights.pb) load and give the same image', async () => {
    const dir = await built('external', { externalData: 'always' });
    const result = await generate(dir, integerTimesteps);
    expect(meanAbsDiff(result.images[0]!.rgb.data, reference.images[0]!.rgb.data)).toBe(0);
  });

  it('a missing external weights file is named as the problem', async () => {
    const dir = await built('external-missing', { externalData: 'always' });
    await rm(join(dir, 'unet', 'weights.pb'));
    const error = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).message).toContain(join(dir, 'unet', 'model.onnx'));
    expect((error as EngineError).message).toMatch(/external weights file is missing or incomplete/);
  });

  it('v-prediction models are recognised', async () => {
    const dir = await built('vpred', { predictionType: 'v_prediction' });
    const engine = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread' });
    expect(engine.info.model.predictionType).toBe('v_prediction');
    await engine.close();
  });

  it('parts from different models are refused: text encoder width ≠ UNet cross-attention width', async () => {
    const mixed = join(root, 'mixed');
    await cp(fixtureDir('parity-eps'), mixed, { recursive: true });
    await cp(join(referenceDir, 'text_encoder'), join(mixed, 'text_encoder'), { recursive: true });
    const error = await createEngine({ modelDir: mixed, provider: 'cpu', backend: 'in-thread' }).catch((e: unknown) => e);
    expect((error as EngineError).message).toMatch(/encoder_hidden_states width 768 does not match the text encoder's output width 64/);
  });
});
