import { copyFile, mkdir, mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPTIMIZED_DIR, openWithOptimizedCache } from '../../src/engine/model/optimized-graph.ts';
import { sessionOptions } from '../../src/engine/providers.ts';
import { fixtureDir } from './fixtures.ts';

const create = (path: string, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> => ort.InferenceSession.create(path, options);

function feeds(): Record<string, ort.Tensor> {
  return {
    sample: new ort.Tensor('float32', Float32Array.from({ length: 2 * 4 * 8 * 8 }, (_, i) => Math.sin(i)), [2, 4, 8, 8]),
    timestep: new ort.Tensor('float32', Float32Array.of(500), [1]),
    encoder_hidden_states: new ort.Tensor('float32', Float32Array.from({ length: 2 * 77 * 768 }, (_, i) => Math.cos(i) * 0.1), [2, 77, 768]),
  };
}

async function outputOf(session: ort.InferenceSession): Promise<Float32Array> {
  const result = await session.run(feeds());
  return result[session.outputNames[0]!]!.data as Float32Array;
}

describe('optimised graph cache', () => {
  let dir: string;
  let modelPath: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'imagine-optimized-'));
    await mkdir(join(dir, 'unet'));
    modelPath = join(dir, 'unet', 'model.onnx');
    await copyFile(join(fixtureDir('parity-eps'), 'unet', 'model.onnx'), modelPath);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('saves the optimised graph once, then loads it with optimisation off, giving the same output', async () => {
    const plain = await create(modelPath, sessionOptions('cpu'));
    const expected = await outputOf(plain);
    await plain.release();

    const first = await openWithOptimizedCache(modelPath, sessionOptions('cpu'), create, 0);
    expect(first.source).toBe('optimized-and-saved');
    expect(first.note).toBeUndefined();
    expect(await outputOf(first.session)).toEqual(expected);
    await first.session.release();
    expect((await readdir(join(dir, 'unet', OPTIMIZED_DIR))).sort()).toEqual(['model.onnx', 'stamp.json']);
    // No staging folders left behind.
    expect((await readdir(join(dir, 'unet'))).sort()).toEqual([OPTIMIZED_DIR, 'model.onnx']);

    const second = await openWithOptimizedCache(modelPath, sessionOptions('cpu'), create, 0);
    expect(second.source).toBe('cache');
    expect(await outputOf(second.session)).toEqual(expected);
    await second.session.release();
  });

  it('rebuilds the cache when the source graph changes', async () => {
    const later = new Date(Date.now() + 60_000);
    await utimes(modelPath, later, later);
    const opened = await openWithOptimizedCache(modelPath, sessionOptions('cpu'), create, 0);
    expect(opened.source).toBe('optimized-and-saved');
    await opened.session.release();
    const again = await openWithOptimizedCache(modelPath, sessionOptions('cpu'), create, 0);
    expect(again.source).toBe('cache');
    await again.session.release();
  });

  it('loads small graphs, and graphs for other optimisation levels, without a cache', async () => {
    const small = await openWithOptimizedCache(modelPath, sessionOptions('cpu'), create);
    expect(small.source).toBe('plain');
    await small.session.release();
    const basic = await openWithOptimizedCache(modelPath, sessionOptions('cpu', undefined, 'basic'), create, 0);
    expect(basic.source).toBe('plain');
    await basic.session.release();
  });
});
