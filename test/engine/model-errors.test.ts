import { cp, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.ts';
import { EngineError } from '../../src/engine/types.ts';
import { fixtureDir } from './fixtures.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imagine-broken-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A copy of the parity fixture with one thing broken by `damage`. */
async function brokenModel(name: string, damage: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(root, name);
  await cp(fixtureDir('parity-eps'), dir, { recursive: true });
  await damage(dir);
  return dir;
}

async function loadError(dir: string, backend: 'in-thread' | 'worker' = 'in-thread'): Promise<EngineError> {
  const error = await createEngine({ modelDir: dir, provider: 'cpu', backend }).then(
    async (engine) => {
      await engine.close();
      throw new Error('expected the model to be rejected');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngineError);
  return error as EngineError;
}

const cases: [string, (dir: string) => Promise<void>, string, RegExp][] = [
  ['no model_index.json', (d) => rm(join(d, 'model_index.json')), 'model_index.json', /file is missing/],
  ['scheduler config not JSON', (d) => writeFile(join(d, 'scheduler/scheduler_config.json'), '{"beta_start": 0.0'), 'scheduler/scheduler_config.json', /is not valid JSON/],
  ['no unet', (d) => rm(join(d, 'unet/model.onnx')), 'unet/model.onnx', /file is missing/],
  ['empty text encoder', (d) => writeFile(join(d, 'text_encoder/model.onnx'), ''), 'text_encoder/model.onnx', /is empty/],
  [
    'truncated unet',
    async (d) => {
      const path = join(d, 'unet/model.onnx');
      await truncate(path, Math.floor((await readFile(path)).length / 2));
    },
    'unet/model.onnx',
    /not a valid ONNX model|could not load/,
  ],
  ['vae decoder where the unet belongs', (d) => cp(join(d, 'vae_decoder/model.onnx'), join(d, 'unet/model.onnx')), 'unet/model.onnx', /has no input named sample \(it has: latent_sample\)/],
  ['unet where the text encoder belongs', (d) => cp(join(d, 'unet/model.onnx'), join(d, 'text_encoder/model.onnx')), 'text_encoder/model.onnx', /has no input named input_ids/],
  ['bad scaling factor', (d) => writeFile(join(d, 'vae_decoder/config.json'), '{"scaling_factor": "big"}'), 'vae_decoder/config.json', /"scaling_factor" must be a positive number/],
  ['bad prediction type', (d) => writeFile(join(d, 'scheduler/scheduler_config.json'), '{"prediction_type": "noise"}'), 'scheduler/scheduler_config.json', /unsupported prediction_type "noise"/],
];

describe('a broken model folder fails with one line naming the file', () => {
  for (const [name, damage, file, problem] of cases) {
    it(name, async () => {
      const dir = await brokenModel(name.replace(/\W+/g, '-'), damage);
      const error = await loadError(dir);
      expect(error.code).toBe('model-invalid');
      expect(error.message).toContain(join(dir, file));
      expect(error.message).toMatch(problem);
      expect(error.message).not.toContain('\n');
    });
  }

  it('a folder that does not exist', async () => {
    const error = await loadError(join(root, 'nope'));
    expect(error.message).toBe(`${join(root, 'nope')}: model folder not found`);
  });

  it('errors cross the worker thread intact', async () => {
    const dir = await brokenModel('worker-truncated', (d) => writeFile(join(d, 'unet/model.onnx'), 'not a model'));
    const error = await loadError(dir, 'worker');
    expect(error.code).toBe('model-invalid');
    expect(error.message).toContain(join(dir, 'unet/model.onnx'));
  });
});
