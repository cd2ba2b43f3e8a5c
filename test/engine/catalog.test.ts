import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeModelFolder } from '../../src/engine/catalog/model-entry.ts';
import { createEngine, type CatalogEngine } from '../../src/engine/engine.ts';
import { EngineError, type GenerateRequest } from '../../src/engine/types.ts';
import { buildModel } from '../../src/models/builder/index.ts';

const MiB = 1024 ** 2;
/** The estimate's fixed runtime share (README "Memory"), so budgets here can be set around the tiny models' weights. */
const RUNTIME_MB = 512;
const request: GenerateRequest = { prompt: 'a small test', seed: 5, steps: 2, scheduler: 'euler', width: 32, height: 32 };

let root: string;
let models: string;
let weightsMb: number;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imagine-catalog-'));
  models = join(root, 'models');
  for (const [name, seed] of [['alpha', 1], ['beta', 2], ['gamma', 3]] as const) await buildModel(join(models, name), { seed });
  // Listed from its JSON alone: a broken graph only shows when it is used.
  await buildModel(join(models, 'broken'), { seed: 4 });
  await truncate(join(models, 'broken', 'unet', 'model.onnx'), 100);
  // A pipeline the engine does not run: left out of the listing, with a warning.
  await mkdir(join(models, 'audio'));
  await writeFile(join(models, 'audio', 'model_index.json'), JSON.stringify({ _class_name: 'AudioLDMPipeline' }));
  // Not a model: no model_index.json.
  await mkdir(join(models, 'notes'));
  await writeFile(join(models, 'notes', 'README.md'), 'not a model\n');
  weightsMb = (await describeModelFolder(join(models, 'alpha'))).memory.weightsBytes / MiB;
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const loadedNames = (engine: CatalogEngine): string[] => engine.listModels().filter((m) => m.loaded).map((m) => m.name);

describe('an engine over a folder of models', () => {
  it('lists every model folder with family, native size and capabilities, loading only the default', async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (_: object, msg?: string) => void warnings.push(msg ?? '') };
    const engine = await createEngine({ modelsDir: models, provider: 'cpu', backend: 'in-thread', logger });
    try {
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^skipping model folder \S+audio: \S+model_index\.json: pipeline class "AudioLDMPipeline" is not one/);
      const listed = engine.listModels();
      expect(listed.map((m) => m.name)).toEqual(['alpha', 'beta', 'broken', 'gamma']);
      for (const model of listed) {
        expect(model).toMatchObject({ family: 'sd', nativeWidth: 512, nativeHeight: 512, capabilities: { textToImage: true, unconditional: false } });
        expect(model.weightsMb).toBeGreaterThan(0);
      }
      expect(loadedNames(engine)).toEqual(['alpha']);
      expect(engine.info.model.name).toBe('alpha');
    } finally {
      await engine.close();
    }
  });

  it('loads a model on first use, runs the request on the model it names, and keeps both within a roomy budget', async () => {
    const engine = await createEngine({ modelsDir: models, provider: 'cpu', backend: 'in-thread', memoryBudgetMb: 4096 });
    const single = await createEngine({ modelDir: join(models, 'beta'), provider: 'cpu', backend: 'in-thread' });
    try {
      const viaRequest = await engine.generate({ ...request, model: 'beta' });
      expect(loadedNames(engine)).toEqual(['alpha', 'beta']);
      const viaOption = await engine.generate(request, { model: 'beta' });
      const alone = await single.generate(request);
      expect(Buffer.from(viaRequest.images[0]!.rgb.data).equals(Buffer.from(alone.images[0]!.rgb.data))).toBe(true);
      expect(Buffer.from(viaOption.images[0]!.rgb.data).equals(Buffer.from(alone.images[0]!.rgb.data))).toBe(true);
      expect(viaRequest.parameters).toContain('Model: beta');
      const alpha = await engine.generate(request);
      expect(Buffer.from(alpha.images[0]!.rgb.data).equals(Buffer.from(alone.images[0]!.rgb.data))).toBe(false);
      expect(alpha.parameters).toContain('Model: alpha');
    } finally {
      await Promise.all([engine.close(), single.close()]);
    }
  });

  it('unloads the least recently used model when the budget holds only two', async () => {
    // Room for the runtime, two models' weights and a small job, not three models.
    // Arena off: a loaded model then holds only its weights, which is all this budget has room for.
    const engine = await createEngine({
      modelsDir: models,
      provider: 'cpu',
      backend: 'in-thread',
      memoryBudgetMb: RUNTIME_MB + 2.5 * weightsMb,
      session: { cpuMemArena: false },
    });
    try {
      expect(loadedNames(engine)).toEqual(['alpha']);
      await engine.generate({ ...request, model: 'beta' });
      expect(loadedNames(engine)).toEqual(['alpha', 'beta']);
      await engine.generate({ ...request, model: 'alpha' }); // alpha is now the most recently used
      await engine.generate({ ...request, model: 'gamma' });
      expect(loadedNames(engine)).toEqual(['alpha', 'gamma']);
      await engine.generate({ ...request, model: 'beta' });
      expect(loadedNames(engine)).toEqual(['beta', 'gamma']);
    } finally {
      await engine.close();
    }
  });

  it('refuses an unknown model by name, listing the ones it has', async () => {
    const engine = await createEngine({ modelsDir: models, provider: 'cpu', backend: 'in-thread' });
    try {
      const error = await engine.generate({ ...request, model: 'delta' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).code).toBe('invalid-request');
      expect((error as EngineError).message).toBe('unknown model "delta"; available: alpha, beta, broken, gamma');
      // A broken model fails when used, naming its file, and the engine goes on serving the others.
      const broken = await engine.generate({ ...request, model: 'broken' }).catch((e: unknown) => e);
      expect((broken as EngineError).code).toBe('model-invalid');
      expect((broken as EngineError).message).toContain(join('broken', 'unet', 'model.onnx'));
      expect(loadedNames(engine)).toEqual(['alpha']);
      await expect(engine.generate({ ...request, model: 'gamma' })).resolves.toBeDefined();
    } finally {
      await engine.close();
    }
  });

  it('loads models lazily in worker threads too', async () => {
    const engine = await createEngine({ modelsDir: models, provider: 'cpu', defaultModel: 'gamma' });
    try {
      expect(loadedNames(engine)).toEqual(['gamma']);
      await engine.generate({ ...request, model: 'beta' });
      expect(loadedNames(engine)).toEqual(['beta', 'gamma']);
    } finally {
      await engine.close();
    }
  });
});

describe('the memory budget', () => {
  it('refuses a request over the budget with the largest size that fits, and runs that size', async () => {
    const engine = await createEngine({ modelDir: join(models, 'alpha'), provider: 'cpu', backend: 'in-thread', memoryBudgetMb: RUNTIME_MB + weightsMb + 40 });
    try {
      const error = await engine.generate({ ...request, width: 1024, height: 1024, steps: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).code).toBe('invalid-request');
      const match = /^1024×1024 needs about .+ of memory, over the budget of .+; the largest that fits is (\d+)×(\d+)$/.exec((error as EngineError).message);
      expect(match, (error as EngineError).message).not.toBeNull();
      const side = Number(match![1]);
      expect(Number(match![2])).toBe(side);
      expect(side % 8).toBe(0);
      expect(side).toBeLessThan(1024);
      await expect(engine.generate({ ...request, width: side + 8, height: side + 8, steps: 1 })).rejects.toThrow(/the largest that fits is/);
      const fits = await engine.generate({ ...request, width: side, height: side, steps: 1 });
      expect(fits.images[0]!.rgb.width).toBe(side);
    } finally {
      await engine.close();
    }
  });
});
