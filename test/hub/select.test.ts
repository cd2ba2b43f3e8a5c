import { describe, expect, it } from 'vitest';
import { isEngineFile, isSafeRepoPath, missingRequired, requirementsFor } from '../../src/models/hub/select.ts';

describe('file selection', () => {
  it('keeps every engine folder of every family and drops framework weights and docs', () => {
    const keep = [
      'model_index.json',
      'scheduler/scheduler_config.json',
      'tokenizer/vocab.json',
      'tokenizer/merges.txt',
      'tokenizer/tokenizer.json',
      'text_encoder/model.onnx',
      'unet/model.onnx',
      'unet/weights.pb',
      'unet/model.onnx_data',
      'vae_decoder/model.onnx',
      'vae_encoder/model.onnx',
      'safety_checker/model.onnx',
      'feature_extractor/preprocessor_config.json',
      'text_encoder_2/model.onnx',
      'text_encoder_2/model.onnx_data',
      'tokenizer_2/vocab.json',
      'tokenizer_2/merges.txt',
    ];
    const drop = [
      'README.md',
      'scheduler/other.json',
      'unet/diffusion_pytorch_model.safetensors',
      'unet/diffusion_pytorch_model.bin',
      'text_encoder/flax_model.msgpack',
      'text_encoder/tf_model.h5',
      'v1-5-pruned.ckpt',
      'unet/fp16/model.onnx',
    ];
    expect(keep.filter((path) => !isEngineFile(path))).toEqual([]);
    expect(drop.filter((path) => isEngineFile(path))).toEqual([]);
  });

  it('refuses listing paths that would escape the destination', () => {
    for (const bad of ['../x', 'unet/../../x', '/etc/passwd', 'a//b', 'a\\b', 'C:/x', '']) expect(isSafeRepoPath(bad), bad).toBe(false);
    expect(isSafeRepoPath('unet/model.onnx')).toBe(true);
  });

  it('accepts either tokenizer form and lists what is missing', () => {
    const base = ['model_index.json', 'scheduler/scheduler_config.json', 'text_encoder/model.onnx', 'unet/model.onnx', 'vae_decoder/model.onnx'];
    expect(missingRequired(new Set([...base, 'tokenizer/vocab.json', 'tokenizer/merges.txt']))).toEqual([]);
    expect(missingRequired(new Set([...base, 'tokenizer/tokenizer.json']))).toEqual([]);
    expect(missingRequired(new Set(['tokenizer/vocab.json']))).toEqual([
      'model_index.json',
      'scheduler/scheduler_config.json',
      'tokenizer/vocab.json + tokenizer/merges.txt (or tokenizer/tokenizer.json)',
      'text_encoder/model.onnx',
      'unet/model.onnx',
      'vae_decoder/model.onnx',
    ]);
  });
});

describe('parts a folder needs, from model_index.json', () => {
  const sd = ['model_index.json', 'scheduler/scheduler_config.json', 'tokenizer/vocab.json', 'tokenizer/merges.txt', 'text_encoder/model.onnx', 'unet/model.onnx', 'vae_decoder/model.onnx'];

  it('takes the components model_index.json lists with a class, skipping [null, null] ones', () => {
    const index = {
      _class_name: 'StableDiffusionPipeline',
      unet: ['diffusers', 'OnnxRuntimeModel'],
      vae_decoder: ['diffusers', 'OnnxRuntimeModel'],
      vae_encoder: ['diffusers', 'OnnxRuntimeModel'],
      text_encoder: ['diffusers', 'OnnxRuntimeModel'],
      tokenizer: ['transformers', 'CLIPTokenizer'],
      scheduler: ['diffusers', 'PNDMScheduler'],
      safety_checker: [null, null],
      feature_extractor: ['transformers', 'CLIPImageProcessor'],
      requires_safety_checker: false,
    };
    expect(missingRequired(new Set(sd), requirementsFor(index))).toEqual(['vae_encoder/model.onnx', 'feature_extractor/preprocessor_config.json']);
  });

  it("uses the family's usual parts when model_index.json lists none", () => {
    expect(missingRequired(new Set(sd), requirementsFor({ _class_name: 'OnnxStableDiffusionPipeline' }))).toEqual([]);
    expect(missingRequired(new Set(sd), requirementsFor({ _class_name: 'ORTStableDiffusionXLPipeline' }))).toEqual([
      'tokenizer_2/vocab.json + tokenizer_2/merges.txt (or tokenizer_2/tokenizer.json)',
      'text_encoder_2/model.onnx',
    ]);
    expect(missingRequired(new Set(['model_index.json', 'scheduler/scheduler_config.json', 'unet/model.onnx']), requirementsFor({ _class_name: 'DDPMPipeline' }))).toEqual([]);
  });
});
