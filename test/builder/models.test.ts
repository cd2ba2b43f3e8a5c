import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BuildOptionsError,
  TIMESTEP_DTYPES,
  TIMESTEP_SHAPES,
  buildModel,
  ensureModel,
  float32ToFloat16Bits,
  type BuildReport,
  type TimestepDtype,
  type TimestepShape,
} from '../../src/models/builder/index.ts';
import { DataType, onnx } from '../../src/models/builder/proto.ts';
import { floats, maxAbsDiff, metadata, noise, relativeRms, session, stats } from './helpers.ts';

let root: string;
let tiny: string;
let tinyReport: BuildReport;
/** CLIP's layout: BOS and EOS are the last two ids; set once the tiny folder is built. */
let BOS = 0;
let EOS = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imagine-builder-'));
  tiny = join(root, 'tiny');
  tinyReport = await buildModel(tiny);
  BOS = tinyReport.tokenizerVocabSize - 2;
  EOS = tinyReport.tokenizerVocabSize - 1;
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

/** Prompt-like ids: BOS, a few tokens, EOS, EOS padding (CLIP's pad token is EOS). */
function promptIds(batch: number, tokens: readonly number[][]): Int32Array {
  const ids = new Int32Array(batch * 77).fill(EOS);
  for (let b = 0; b < batch; b++) {
    ids[b * 77] = BOS;
    tokens[b]!.forEach((t, i) => (ids[b * 77 + 1 + i] = t));
  }
  return ids;
}

/** `size`: a square side or [height, width] of the latents. */
function unetFeeds(
  batch: number,
  size: number | readonly [number, number],
  t: number,
  context: Float32Array,
  { timestepDtype = 'float32', timestepShape = '1', half = false }: { timestepDtype?: TimestepDtype; timestepShape?: TimestepShape; half?: boolean } = {},
): Record<string, ort.Tensor> {
  const dims = timestepShape === 'scalar' ? [] : timestepShape === '1' ? [1] : [batch];
  const count = timestepShape === 'batch' ? batch : 1;
  const values = Array.from({ length: count }, (_, i) => t - i * 7);
  const timestep =
    timestepDtype === 'int64'
      ? new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims)
      : timestepDtype === 'float16'
        ? new ort.Tensor('float16', float32ToFloat16Bits(Float32Array.from(values)), dims)
        : new ort.Tensor('float32', Float32Array.from(values), dims);
  const [height, width] = typeof size === 'number' ? [size, size] : size;
  const sample = noise(batch * 4 * height * width, 11);
  const float = (data: Float32Array, shape: number[]): ort.Tensor =>
    half ? new ort.Tensor('float16', float32ToFloat16Bits(data), shape) : new ort.Tensor('float32', data, shape);
  return {
    sample: float(sample, [batch, 4, height, width]),
    timestep,
    encoder_hidden_states: float(context, [batch, context.length / batch / 64, 64]),
  };
}

describe('tiny model folder', () => {
  it('has the diffusers ONNX layout and SD 1.5 configs', async () => {
    expect(await listFiles(tiny)).toEqual([
      'model_index.json',
      'scheduler/scheduler_config.json',
      'text_encoder/config.json',
      'text_encoder/model.onnx',
      'tokenizer/merges.txt',
      'tokenizer/special_tokens_map.json',
      'tokenizer/tokenizer_config.json',
      'tokenizer/vocab.json',
      'unet/config.json',
      'unet/model.onnx',
      'vae_decoder/config.json',
      'vae_decoder/model.onnx',
      'vae_encoder/config.json',
      'vae_encoder/model.onnx',
    ]);
    const index = await readJson(join(tiny, 'model_index.json'));
    expect(index).toMatchObject({
      _class_name: 'OnnxStableDiffusionPipeline',
      scheduler: ['diffusers', 'PNDMScheduler'],
      text_encoder: ['diffusers', 'OnnxRuntimeModel'],
      tokenizer: ['transformers', 'CLIPTokenizer'],
      unet: ['diffusers', 'OnnxRuntimeModel'],
      vae_decoder: ['diffusers', 'OnnxRuntimeModel'],
      vae_encoder: ['diffusers', 'OnnxRuntimeModel'],
      safety_checker: [null, null],
      feature_extractor: [null, null],
    });
    // SD 1.5's own file, key order included.
    const sd15Scheduler = await readFile(fileURLToPath(new URL('fixtures/sd15-scheduler_config.json', import.meta.url)), 'utf8');
    expect(await readFile(join(tiny, 'scheduler', 'scheduler_config.json'), 'utf8')).toBe(sd15Scheduler);
    expect(await readJson(join(tiny, 'unet', 'config.json'))).toMatchObject({
      sample_size: 64,
      in_channels: 4,
      cross_attention_dim: 64,
      block_out_channels: [32, 64, 64],
    });
    expect(await readJson(join(tiny, 'vae_decoder', 'config.json'))).toMatchObject({ scaling_factor: 0.18215, latent_channels: 4 });
    expect(tinyReport.tokenizerVocabSize).toBeGreaterThan(1100);
    // Nothing but the finished folder is left in the parent.
    expect(await readdir(root)).toEqual(['tiny']);
  });

  it('text encoder: CLIP I/O, causal attention, pooled output at EOS', async () => {
    const s = await session(join(tiny, 'text_encoder', 'model.onnx'));
    expect(metadata(s.inputMetadata)).toEqual([{ name: 'input_ids', type: 'int32', shape: ['batch', 'sequence'] }]);
    expect(metadata(s.outputMetadata)).toEqual([
      { name: 'last_hidden_state', type: 'float32', shape: ['batch', 'sequence', 64] },
      { name: 'pooler_output', type: 'float32', shape: ['batch', 64] },
    ]);
    const ids = promptIds(2, [[600, 700, 800], [900]]);
    const out = await s.run({ input_ids: new ort.Tensor('int32', ids, [2, 77]) });
    expect(out.last_hidden_state!.dims).toEqual([2, 77, 64]);
    expect(out.pooler_output!.dims).toEqual([2, 64]);
    const hidden = floats(out.last_hidden_state!);
    const pooled = floats(out.pooler_output!);
    expect(stats(hidden).finite).toBe(true);
    expect(stats(hidden).std).toBeGreaterThan(0.5);
    // First EOS: position 4 in row 0, position 2 in row 1.
    expect(Array.from(pooled.subarray(0, 64))).toEqual(Array.from(hidden.subarray(4 * 64, 5 * 64)));
    expect(Array.from(pooled.subarray(64))).toEqual(Array.from(hidden.subarray(77 * 64 + 2 * 64, 77 * 64 + 3 * 64)));

    // Changing token 3 leaves positions 0-2 alone (causal) but changes position 3 onwards.
    const changed = ids.slice();
    changed[3] = 1000;
    const out2 = await s.run({ input_ids: new ort.Tensor('int32', changed, [2, 77]) });
    const hidden2 = floats(out2.last_hidden_state!);
    expect(maxAbsDiff(hidden.subarray(0, 3 * 64), hidden2.subarray(0, 3 * 64))).toBe(0);
    expect(maxAbsDiff(hidden.subarray(3 * 64, 4 * 64), hidden2.subarray(3 * 64, 4 * 64))).toBeGreaterThan(0.01);

    // Shorter sequences work too (position embeddings and mask are sliced to the length).
    const short = await s.run({ input_ids: new ort.Tensor('int32', ids.subarray(0, 10), [1, 10]) });
    expect(short.last_hidden_state!.dims).toEqual([1, 10, 64]);
  });

  it('UNet: SD I/O, unit-scale output that depends on timestep and text', async () => {
    const s = await session(join(tiny, 'unet', 'model.onnx'));
    expect(metadata(s.inputMetadata)).toEqual([
      { name: 'sample', type: 'float32', shape: ['batch', 4, 'height', 'width'] },
      { name: 'timestep', type: 'float32', shape: [1] },
      { name: 'encoder_hidden_states', type: 'float32', shape: ['batch', 'sequence', 64] },
    ]);
    expect(metadata(s.outputMetadata)).toEqual([{ name: 'out_sample', type: 'float32', shape: ['batch', 4, 'height', 'width'] }]);

    const context = noise(2 * 77 * 64, 5);
    const feeds = unetFeeds(2, 64, 999, context);
    const out = await s.run(feeds);
    expect(out.out_sample!.dims).toEqual([2, 4, 64, 64]);
    const base = floats(out.out_sample!);
    const st = stats(base);
    expect(st.finite).toBe(true);
    expect(st.std).toBeGreaterThan(0.3);
    expect(st.std).toBeLessThan(3);

    const otherTime = floats((await s.run(unetFeeds(2, 64, 10, context))).out_sample!);
    expect(relativeRms(otherTime, base)).toBeGreaterThan(0.01);
    const otherText = floats((await s.run(unetFeeds(2, 64, 999, noise(2 * 77 * 64, 6)))).out_sample!);
    expect(relativeRms(otherText, base)).toBeGreaterThan(0.01);

    // Non-square latents and another text length.
    const odd = await s.run({ ...unetFeeds(1, 8, 500, noise(20 * 64, 3)), sample: new ort.Tensor('float32', noise(4 * 16 * 24, 1), [1, 4, 16, 24]) });
    expect(odd.out_sample!.dims).toEqual([1, 4, 16, 24]);
  });

  it('VAE decoder: 8x upsampling to a colourful image mostly inside [-1, 1]', async () => {
    const s = await session(join(tiny, 'vae_decoder', 'model.onnx'));
    expect(metadata(s.inputMetadata)).toEqual([{ name: 'latent_sample', type: 'float32', shape: ['batch', 4, 'height', 'width'] }]);
    expect(metadata(s.outputMetadata)).toEqual([{ name: 'sample', type: 'float32', shape: ['batch', 3, 'image_height', 'image_width'] }]);
    // Latents as the pipeline hands them over: unit noise divided by the scaling factor.
    const latents = noise(4 * 32 * 32, 9).map((v) => v / 0.18215);
    const out = await s.run({ latent_sample: new ort.Tensor('float32', latents, [1, 4, 32, 32]) });
    expect(out.sample!.dims).toEqual([1, 3, 256, 256]);
    const image = floats(out.sample!);
    const all = stats(image);
    expect(all.finite).toBe(true);
    expect(all.insideUnit).toBeGreaterThan(0.85);
    const plane = 256 * 256;
    for (let c = 0; c < 3; c++) {
      const ch = stats(image.subarray(c * plane, (c + 1) * plane));
      expect(ch.std).toBeGreaterThan(0.15);
      expect(ch.std).toBeLessThan(0.9);
    }
  });
});

/** The tiny UNet as built before odd sizes: each up-level Resize a fixed x2 instead of its skip's size. */
async function plainX2Unet(path: string): Promise<ort.InferenceSession> {
  const model = onnx.ModelProto.decode(await readFile(path));
  const graph = model.graph!;
  const resizes = (graph.node ?? []).filter((n) => n.opType === 'Resize');
  expect(resizes.map((n) => n.input?.length)).toEqual([4, 4]);
  graph.initializer!.push({ name: 'x2_scales', dims: [4], dataType: DataType.float32, floatData: [1, 1, 2, 2] });
  for (const node of resizes) node.input = [node.input![0]!, '', 'x2_scales'];
  // logSeverityLevel 4: its expected failure on odd sizes need not print an ORT error log.
  return ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), { graphOptimizationLevel: 'all', logSeverityLevel: 4 });
}

describe('any latent size, as diffusers with forward_upsample_size', () => {
  const sizes: [number, number][] = [
    [5, 7],
    [1, 1],
    [9, 4],
    [2, 3],
    [13, 11],
    [64, 64],
  ];

  it('UNet: output shaped like the input, finite, at odd, tiny and non-square sizes', async () => {
    const s = await session(join(tiny, 'unet', 'model.onnx'));
    const context = noise(2 * 77 * 64, 5);
    for (const [h, w] of sizes) {
      const out = await s.run(unetFeeds(2, [h, w], 600, context));
      expect(out.out_sample!.dims, `${h}x${w}`).toEqual([2, 4, h, w]);
      const st = stats(floats(out.out_sample!));
      expect(st.finite, `${h}x${w}`).toBe(true);
      expect(st.std, `${h}x${w}`).toBeGreaterThan(0.1);
    }
  });

  it("UNet with SD 1.5's layout at toy width (four levels, two layers per block) takes them too", async () => {
    const dir = join(root, 'four-levels');
    const unet = { blockOutChannels: [8, 16, 16, 16], layersPerBlock: 2, attentionLevels: [true, true, true, false], normGroups: 4 };
    await buildModel(dir, { components: ['unet'], unet });
    const s = await session(join(dir, 'unet', 'model.onnx'));
    for (const [h, w] of [...sizes, [3, 17], [15, 9]] as [number, number][]) {
      const out = await s.run(unetFeeds(1, [h, w], 300, noise(77 * 64, 7)));
      expect(out.out_sample!.dims, `${h}x${w}`).toEqual([1, 4, h, w]);
      expect(stats(floats(out.out_sample!)).finite, `${h}x${w}`).toBe(true);
    }
    await rm(dir, { recursive: true });
  });

  it('UNet: at sizes x2 fits, equals the plain x2 graph bit for bit (which fails on odd sizes)', async () => {
    const path = join(tiny, 'unet', 'model.onnx');
    const [s, plain] = [await session(path), await plainX2Unet(path)];
    const context = noise(2 * 77 * 64, 5);
    for (const size of [[64, 64], [8, 12], [4, 4]] as const) {
      const feeds = unetFeeds(2, size, 999, context);
      expect(maxAbsDiff(floats((await s.run(feeds)).out_sample!), floats((await plain.run(feeds)).out_sample!)), size.join('x')).toBe(0);
    }
    await expect(plain.run(unetFeeds(2, [5, 7], 999, context))).rejects.toThrow(/Concat/);
  });

  it('whole folder: text encoder -> UNet -> VAE decoder gives an 8h x 8w image', async () => {
    const te = await session(join(tiny, 'text_encoder', 'model.onnx'));
    const unet = await session(join(tiny, 'unet', 'model.onnx'));
    const vae = await session(join(tiny, 'vae_decoder', 'model.onnx'));
    const text = await te.run({ input_ids: new ort.Tensor('int32', promptIds(1, [[600, 700]]), [1, 77]) });
    const context = floats(text.last_hidden_state!);
    for (const [h, w] of sizes) {
      const eps = await unet.run(unetFeeds(1, [h, w], 900, context));
      expect(eps.out_sample!.dims, `${h}x${w}`).toEqual([1, 4, h, w]);
      const image = await vae.run({ latent_sample: eps.out_sample! });
      expect(image.sample!.dims, `${h}x${w}`).toEqual([1, 3, 8 * h, 8 * w]);
      expect(stats(floats(image.sample!)).finite, `${h}x${w}`).toBe(true);
    }
  });
});

describe('variants', () => {
  it('every timestep dtype and shape loads, is declared as asked and runs', async () => {
    const context = noise(2 * 5 * 64, 2);
    for (const timestepDtype of TIMESTEP_DTYPES) {
      for (const timestepShape of TIMESTEP_SHAPES) {
        const dir = join(root, `ts-${timestepDtype}-${timestepShape}`);
        await buildModel(dir, { timestepDtype, timestepShape, components: ['unet'] });
        const s = await session(join(dir, 'unet', 'model.onnx'));
        const expectedShape = timestepShape === 'scalar' ? [] : timestepShape === '1' ? [1] : ['batch'];
        expect(metadata(s.inputMetadata)[1]).toEqual({ name: 'timestep', type: timestepDtype, shape: expectedShape });
        const out = await s.run(unetFeeds(2, 8, 321, context, { timestepDtype, timestepShape }));
        expect(out.out_sample!.dims).toEqual([2, 4, 8, 8]);
        expect(stats(floats(out.out_sample!)).finite).toBe(true);
        await rm(dir, { recursive: true });
      }
    }
  });

  it('float16: half weights and I/O, close to the float32 model with the same seed', async () => {
    const dir = join(root, 'half');
    await buildModel(dir, { float16: true });
    const te = await session(join(dir, 'text_encoder', 'model.onnx'));
    expect(metadata(te.inputMetadata)[0]!.type).toBe('int32');
    expect(metadata(te.outputMetadata).map((m) => m.type)).toEqual(['float16', 'float16']);
    const teOut = await te.run({ input_ids: new ort.Tensor('int32', promptIds(1, [[600, 601]]), [1, 77]) });
    expect(stats(floats(teOut.last_hidden_state!)).finite).toBe(true);

    const unet = await session(join(dir, 'unet', 'model.onnx'));
    expect(metadata(unet.inputMetadata).map((m) => m.type)).toEqual(['float16', 'float32', 'float16']);
    expect(metadata(unet.outputMetadata)[0]!.type).toBe('float16');
    const context = noise(2 * 77 * 64, 4);
    // Round the inputs to float16 for both models so only the models' own precision differs.
    const halfContext = floats(new ort.Tensor('float16', float32ToFloat16Bits(context), [context.length]));
    const halfOut = floats((await unet.run(unetFeeds(2, 16, 700, context, { half: true }))).out_sample!);
    const fullUnet = await session(join(tiny, 'unet', 'model.onnx'));
    const fullFeeds = unetFeeds(2, 16, 700, halfContext);
    const sampleBits = float32ToFloat16Bits(fullFeeds.sample!.data as Float32Array);
    fullFeeds.sample = new ort.Tensor('float32', floats(new ort.Tensor('float16', sampleBits, [sampleBits.length])), [2, 4, 16, 16]);
    const fullOut = floats((await fullUnet.run(fullFeeds)).out_sample!);
    expect(stats(halfOut).finite).toBe(true);
    expect(relativeRms(halfOut, fullOut)).toBeLessThan(0.02);

    const vae = await session(join(dir, 'vae_decoder', 'model.onnx'));
    const latents = float32ToFloat16Bits(noise(4 * 8 * 8, 3).map((v) => v / 0.18215));
    const image = await vae.run({ latent_sample: new ort.Tensor('float16', latents, [1, 4, 8, 8]) });
    expect(image.sample!.type).toBe('float16');
    expect(image.sample!.dims).toEqual([1, 3, 64, 64]);
    expect(stats(floats(image.sample!)).finite).toBe(true);
  });

  it('v-prediction and scheduler class options land in scheduler_config.json', async () => {
    const dir = join(root, 'v');
    await buildModel(dir, { predictionType: 'v_prediction', schedulerClass: 'DDIMScheduler', components: ['vae_decoder'] });
    const config = await readJson(join(dir, 'scheduler', 'scheduler_config.json'));
    expect(config).toMatchObject({ _class_name: 'DDIMScheduler', prediction_type: 'v_prediction', beta_schedule: 'scaled_linear' });
    expect(await readJson(join(dir, 'model_index.json'))).toMatchObject({
      scheduler: ['diffusers', 'DDIMScheduler'],
      tokenizer: ['transformers', 'CLIPTokenizer'],
      // A partial build lists only what it wrote; the rest is diffusers' "absent" entry.
      text_encoder: [null, null],
      unet: [null, null],
      vae_decoder: ['diffusers', 'OnnxRuntimeModel'],
    });
  });
});

describe('files', () => {
  it('same options give byte-identical folders; another seed changes the weights', async () => {
    const again = join(root, 'again');
    await buildModel(again);
    const files = await listFiles(tiny);
    expect(await listFiles(again)).toEqual(files);
    for (const f of files) expect((await readFile(join(again, f))).equals(await readFile(join(tiny, f))), f).toBe(true);

    const seeded = join(root, 'seeded');
    await buildModel(seeded, { seed: 7, components: ['unet'] });
    const a = await readFile(join(tiny, 'unet', 'model.onnx'));
    const b = await readFile(join(seeded, 'unet', 'model.onnx'));
    expect(a.length).toBe(b.length);
    expect(a.equals(b)).toBe(false);
  });

  it('external data: one weights.pb, valid offsets, same outputs as the inline model', async () => {
    const dir = join(root, 'external');
    const report = await buildModel(dir, { externalData: 'always', components: ['unet', 'text_encoder'] });
    for (const part of ['unet', 'text_encoder'] as const) {
      const modelPath = join(dir, part, 'model.onnx');
      const dataSize = (await stat(join(dir, part, 'weights.pb'))).size;
      expect(report.components[part]!.weightsBytes).toBe(dataSize);
      const proto = onnx.ModelProto.decode(await readFile(modelPath));
      const external = (proto.graph?.initializer ?? []).filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
      expect(external.length).toBeGreaterThan(10);
      for (const t of external) {
        expect(t.rawData?.length ?? 0).toBe(0);
        const entries = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
        expect(entries.location).toBe('weights.pb');
        const offset = Number(entries.offset);
        const length = Number(entries.length);
        expect(length).toBe((t.dims ?? []).reduce<number>((n, d) => n * Number(d), 4));
        expect(offset % 64).toBe(0);
        expect(offset + length).toBeLessThanOrEqual(dataSize);
      }
      // Only literals (shapes, axes, the causal-mask table) stay inline: a small fraction of the weights.
      expect((await stat(modelPath)).size).toBeLessThan(dataSize / 10);
    }

    const ext = await session(join(dir, 'unet', 'model.onnx'));
    const inline = await session(join(tiny, 'unet', 'model.onnx'));
    const feeds = unetFeeds(2, 16, 250, noise(2 * 77 * 64, 8));
    const a = floats((await ext.run(feeds)).out_sample!);
    const b = floats((await inline.run(feeds)).out_sample!);
    expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(1e-6);

    const extTe = await session(join(dir, 'text_encoder', 'model.onnx'));
    const inlineTe = await session(join(tiny, 'text_encoder', 'model.onnx'));
    const ids = { input_ids: new ort.Tensor('int32', promptIds(1, [[700, 701, 702]]), [1, 77]) };
    expect(maxAbsDiff(floats((await extTe.run(ids)).pooler_output!), floats((await inlineTe.run(ids)).pooler_output!))).toBeLessThanOrEqual(1e-6);
  });

  it('replaces an existing folder whole; ensureModel builds only when missing', async () => {
    const dir = join(root, 'replace');
    await buildModel(dir, { components: ['vae_decoder'] });
    await buildModel(dir, { components: ['unet'] });
    expect(await listFiles(join(dir))).not.toContain('vae_decoder/model.onnx');
    expect(await listFiles(join(dir))).toContain('unet/model.onnx');
    expect(await ensureModel(dir)).toBeNull();
    const fresh = join(root, 'fresh');
    expect((await ensureModel(fresh, { components: ['vae_decoder'] }))?.components.vae_decoder?.parameters).toBeGreaterThan(0);
    expect((await readdir(root)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('ensureModel rebuilds a folder made by an older builder version', async () => {
    const dir = join(root, 'old-version');
    await buildModel(dir, { components: ['vae_decoder'] });
    const indexPath = join(dir, 'model_index.json');
    const index = JSON.parse(await readFile(indexPath, 'utf8')) as Record<string, unknown>;
    delete index._imagine_builder_version;
    await writeFile(indexPath, JSON.stringify(index));
    expect(await ensureModel(dir, { components: ['vae_decoder'] })).not.toBeNull();
    expect(await ensureModel(dir, { components: ['vae_decoder'] })).toBeNull();
  });

  it('rejects inconsistent options with a one-line BuildOptionsError and writes nothing', async () => {
    const dir = join(root, 'bad');
    await expect(buildModel(dir, { unet: { normGroups: 5 } })).rejects.toThrow(BuildOptionsError);
    await expect(buildModel(dir, { unet: { blockOutChannels: [32, 64] } })).rejects.toThrow(/attentionLevels/);
    await expect(buildModel(dir, { timestepDtype: 'int32' as TimestepDtype })).rejects.toThrow(/timestep dtype must be one of/);
    // Too big for an inline protobuf: refused before any weight is generated.
    await expect(buildModel(dir, { preset: 'sd15', externalData: 'never', components: ['unet'] })).rejects.toThrow(/external data/);
    await expect(stat(dir)).rejects.toThrow();
  });
});
