import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildOptionsError, SDXL_PRESET, buildModel, resolveOptions, type BuildReport } from '../../src/models/builder/index.ts';
import { parameterCount } from '../../src/models/builder/onnx-writer.ts';
import { buildTextEncoder } from '../../src/models/builder/text-encoder.ts';
import { buildUnet } from '../../src/models/builder/unet.ts';
import { floats, maxAbsDiff, metadata, noise, session } from './helpers.ts';

let root: string;
let dir: string;
let report: BuildReport;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imagine-builder-sdxl-'));
  dir = join(root, 'tiny-sdxl');
  report = await buildModel(dir, { preset: 'tiny-sdxl' });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;

function ids(values: number[], eos: number, pad: number): ort.Tensor {
  const row = [eos - 1, ...values, eos];
  while (row.length < 77) row.push(pad);
  return new ort.Tensor('int32', Int32Array.from(row), [1, 77]);
}

describe('tiny-sdxl folder', () => {
  it('has optimum’s SDXL layout and SDXL’s configs', async () => {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    const files = entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
    expect(files).toEqual([
      'model_index.json',
      'scheduler/scheduler_config.json',
      'text_encoder/config.json',
      'text_encoder/model.onnx',
      'text_encoder_2/config.json',
      'text_encoder_2/model.onnx',
      'tokenizer/merges.txt',
      'tokenizer/special_tokens_map.json',
      'tokenizer/tokenizer_config.json',
      'tokenizer/vocab.json',
      'tokenizer_2/merges.txt',
      'tokenizer_2/special_tokens_map.json',
      'tokenizer_2/tokenizer_config.json',
      'tokenizer_2/vocab.json',
      'unet/config.json',
      'unet/model.onnx',
      'vae_decoder/config.json',
      'vae_decoder/model.onnx',
    ]);
    expect(await readJson(join(dir, 'model_index.json'))).toMatchObject({
      _class_name: 'ORTStableDiffusionXLPipeline',
      force_zeros_for_empty_prompt: true,
      scheduler: ['diffusers', 'EulerDiscreteScheduler'],
      text_encoder_2: ['diffusers', 'OnnxRuntimeModel'],
      tokenizer_2: ['transformers', 'CLIPTokenizer'],
    });
    expect(await readJson(join(dir, 'scheduler/scheduler_config.json'))).toMatchObject({ _class_name: 'EulerDiscreteScheduler', timestep_spacing: 'leading', steps_offset: 1 });
    expect(await readJson(join(dir, 'tokenizer_2/tokenizer_config.json'))).toMatchObject({ pad_token: '!', eos_token: '<|endoftext|>' });
    expect(await readJson(join(dir, 'tokenizer/tokenizer_config.json'))).toMatchObject({ pad_token: '<|endoftext|>' });
    expect(await readFile(join(dir, 'tokenizer_2/vocab.json'), 'utf8')).toBe(await readFile(join(dir, 'tokenizer/vocab.json'), 'utf8'));
    expect(await readJson(join(dir, 'text_encoder_2/config.json'))).toMatchObject({ architectures: ['CLIPTextModelWithProjection'], hidden_act: 'gelu', projection_dim: 64 });
    expect(await readJson(join(dir, 'unet/config.json'))).toMatchObject({
      cross_attention_dim: 96,
      addition_embed_type: 'text_time',
      addition_time_embed_dim: 8,
      projection_class_embeddings_input_dim: 64 + 6 * 8,
      transformer_layers_per_block: [1, 1, 2],
    });
    expect(await readJson(join(dir, 'vae_decoder/config.json'))).toMatchObject({ scaling_factor: 0.13025 });
    expect(Object.keys(report.components)).toEqual(['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder']);
  });

  it('text encoders: every hidden state as hidden_states.N, text_embeds first on the second', async () => {
    const eos = report.tokenizerVocabSize - 1;
    const first = await session(join(dir, 'text_encoder/model.onnx'));
    const second = await session(join(dir, 'text_encoder_2/model.onnx'));
    const states = (width: number) => [0, 1, 2].map((i) => ({ name: `hidden_states.${i}`, type: 'float32', shape: ['batch', 'sequence', width] }));
    expect(metadata(first.outputMetadata)).toEqual([
      { name: 'last_hidden_state', type: 'float32', shape: ['batch', 'sequence', 32] },
      { name: 'pooler_output', type: 'float32', shape: ['batch', 32] },
      ...states(32),
    ]);
    expect(metadata(second.outputMetadata)).toEqual([
      { name: 'text_embeds', type: 'float32', shape: ['batch', 64] },
      { name: 'last_hidden_state', type: 'float32', shape: ['batch', 'sequence', 64] },
      ...states(64),
    ]);
    const a = await second.run({ input_ids: ids([300, 301], eos, 0) });
    const b = await second.run({ input_ids: ids([302, 303], eos, 0) });
    // Layers change the state; the final LayerNorm makes last_hidden_state differ from the last layer's output.
    expect(maxAbsDiff(floats(a['hidden_states.1']!), floats(a['hidden_states.2']!))).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(floats(a['hidden_states.2']!), floats(a.last_hidden_state!))).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(floats(a.text_embeds!), floats(b.text_embeds!))).toBeGreaterThan(1e-3);
  });

  it('UNet: SDXL’s inputs, and the output depends on text_embeds and time_ids', async () => {
    const unet = await session(join(dir, 'unet/model.onnx'));
    expect(metadata(unet.inputMetadata)).toEqual([
      { name: 'sample', type: 'float32', shape: ['batch', 4, 'height', 'width'] },
      { name: 'timestep', type: 'float32', shape: [1] },
      { name: 'encoder_hidden_states', type: 'float32', shape: ['batch', 'sequence', 96] },
      { name: 'text_embeds', type: 'float32', shape: ['batch', 64] },
      { name: 'time_ids', type: 'float32', shape: ['batch', 6] },
    ]);
    const feeds = (textEmbeds: Float32Array, timeIds: number[]) => ({
      sample: new ort.Tensor('float32', noise(2 * 4 * 8 * 8, 1), [2, 4, 8, 8]),
      timestep: new ort.Tensor('float32', Float32Array.of(500), [1]),
      encoder_hidden_states: new ort.Tensor('float32', noise(2 * 77 * 96, 2), [2, 77, 96]),
      text_embeds: new ort.Tensor('float32', textEmbeds, [2, 64]),
      time_ids: new ort.Tensor('float32', Float32Array.from([...timeIds, ...timeIds]), [2, 6]),
    });
    const base = floats((await unet.run(feeds(noise(128, 3), [64, 64, 0, 0, 64, 64]))).out_sample!);
    const otherText = floats((await unet.run(feeds(noise(128, 4), [64, 64, 0, 0, 64, 64]))).out_sample!);
    const otherSize = floats((await unet.run(feeds(noise(128, 3), [1024, 1024, 0, 0, 1024, 1024]))).out_sample!);
    expect(base.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(base, otherText)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(base, otherSize)).toBeGreaterThan(1e-3);
  });

  it('an LCM UNet takes timestep_cond, and its output depends on it', async () => {
    const lcm = join(root, 'lcm');
    await buildModel(lcm, { components: ['unet'], unet: { timeCondProjDim: 16 } });
    expect(await readJson(join(lcm, 'unet/config.json'))).toMatchObject({ time_cond_proj_dim: 16 });
    const unet = await session(join(lcm, 'unet/model.onnx'));
    expect(metadata(unet.inputMetadata).at(-1)).toEqual({ name: 'timestep_cond', type: 'float32', shape: ['batch', 16] });
    const run = async (cond: Float32Array) =>
      floats(
        (
          await unet.run({
            sample: new ort.Tensor('float32', noise(4 * 8 * 8, 1), [1, 4, 8, 8]),
            timestep: new ort.Tensor('float32', Float32Array.of(500), [1]),
            encoder_hidden_states: new ort.Tensor('float32', noise(77 * 64, 2), [1, 77, 64]),
            timestep_cond: new ort.Tensor('float32', cond, [1, 16]),
          })
        ).out_sample!,
      );
    expect(maxAbsDiff(await run(noise(16, 5)), await run(noise(16, 6)))).toBeGreaterThan(1e-3);
  });

  it('sdxl preset: SDXL base’s parameter counts (graphs only, no weights generated)', () => {
    const o = resolveOptions({ preset: 'sdxl' });
    expect(parameterCount(buildUnet(o))).toBe(2_567_463_684);
    expect(parameterCount(buildTextEncoder(o, SDXL_PRESET.textEncoder.vocabSize!))).toBe(123_060_480);
    expect(parameterCount(buildTextEncoder(o, SDXL_PRESET.textEncoder2.vocabSize!, 'text_encoder_2'))).toBe(694_659_840);
  });

  it('refuses SDXL parts on an SD preset', async () => {
    await expect(buildModel(join(root, 'bad'), { components: ['text_encoder_2'] })).rejects.toThrow(/text_encoder_2 is an SDXL part/);
    await expect(buildModel(join(root, 'bad'), { unet: { addedTimeEmbedDim: 8 } })).rejects.toThrow(BuildOptionsError);
    await expect(buildModel(join(root, 'bad'), { preset: 'tiny-sdxl', unet: { crossAttentionDim: 64 } })).rejects.toThrow(/must equal the text width 96/);
  });

  it('npm run models:build -- --preset tiny-sdxl', () => {
    const out = join(root, 'cli');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/build-model.ts', '--out', out, '--preset', 'tiny-sdxl', '--only', 'text_encoder_2'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^text_encoder_2\s+[\d,]+ parameters/m);
    expect(r.stdout).toMatch(/built the tiny-sdxl model/);
  });
});
