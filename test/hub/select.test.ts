import { describe, expect, it } from 'vitest';
import { nextPageUrl } from '../../src/models/hub/client.ts';
import { isEngineFile, isSafeRepoPath, missingRequired } from '../../src/models/hub/select.ts';

describe('file selection', () => {
  it('keeps the engine folders and drops encoders, checkers and framework weights', () => {
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
    ];
    const drop = [
      'README.md',
      'scheduler/other.json',
      'vae_encoder/model.onnx',
      'safety_checker/model.onnx',
      'feature_extractor/preprocessor_config.json',
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

describe('Link header pagination', () => {
  it('finds rel="next" among several links and resolves it against the page', () => {
    const base = 'https://hub.example/api/models/a/b/tree/main?recursive=true';
    expect(nextPageUrl('<https://hub.example/api/x?cursor=2>; rel="next"', base)).toBe('https://hub.example/api/x?cursor=2');
    expect(nextPageUrl('</api/x?cursor=1>; rel="prev", </api/x?cursor=3>; rel=next', base)).toBe('https://hub.example/api/x?cursor=3');
    expect(nextPageUrl('</api/x?cursor=1>; rel="prev"', base)).toBeUndefined();
    expect(nextPageUrl(null, base)).toBeUndefined();
  });
});
