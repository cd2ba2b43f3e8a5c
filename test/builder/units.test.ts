import { describe, expect, it } from 'vitest';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../src/models/builder/float16.ts';
import { fillUniform, tensorSeed } from '../../src/models/builder/prng.ts';
import { SD15_PRESET, resolveOptions } from '../../src/models/builder/options.ts';
import { buildTextEncoder } from '../../src/models/builder/text-encoder.ts';
import { buildUnet } from '../../src/models/builder/unet.ts';
import { parameterCount } from '../../src/models/builder/onnx-writer.ts';

describe('float16', () => {
  it('rounds to nearest even and handles the edges', () => {
    const input = Float32Array.from([0, -0, 1, -2, 65504, 65520, 1e6, -Infinity, NaN, 2 ** -24, 2 ** -26, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 0.1]);
    const bits = Array.from(float32ToFloat16Bits(input));
    expect(bits.slice(0, 13)).toEqual([0x0000, 0x8000, 0x3c00, 0xc000, 0x7bff, 0x7c00, 0x7c00, 0xfc00, 0x7e00, 0x0001, 0x0000, 0x3c00, 0x3c02]);
    expect(float16BitsToFloat32(Uint16Array.from([bits[13]!]))[0]).toBeCloseTo(0.0999755859375, 10);
  });

  it('round-trips every finite half value', () => {
    const all = Uint16Array.from({ length: 0x7c00 }, (_, i) => i);
    expect(Array.from(float32ToFloat16Bits(float16BitsToFloat32(all)))).toEqual(Array.from(all));
  });
});

describe('weights', () => {
  it('are a pure function of seed and tensor name, with the requested mean and spread', () => {
    const a = new Float32Array(20_000);
    const b = new Float32Array(20_000);
    fillUniform(a, tensorSeed(0, 'conv_in.weight'), 0.5, 0.2);
    fillUniform(b, tensorSeed(0, 'conv_in.weight'), 0.5, 0.2);
    expect(a).toEqual(b);
    fillUniform(b, tensorSeed(1, 'conv_in.weight'), 0.5, 0.2);
    expect(a).not.toEqual(b);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(std).toBeCloseTo(0.2, 2);
    expect(Math.max(...a)).toBeLessThanOrEqual(0.5 + 0.2 * Math.sqrt(3));
  });
});

describe('options', () => {
  it('merge over the preset; undefined means not given', () => {
    const o = resolveOptions({ seed: undefined, unet: { layersPerBlock: 2, crossAttentionDim: undefined } });
    expect(o.seed).toBe(0);
    expect(o.unet).toMatchObject({ layersPerBlock: 2, blockOutChannels: [32, 64, 64], crossAttentionDim: null });
    expect(resolveOptions({ preset: 'sd15', float16: true }).unet.blockOutChannels).toEqual([320, 640, 1280, 1280]);
  });
});

describe('sd15 preset', () => {
  it('has SD 1.5 parameter counts (graphs only, no weights generated)', () => {
    const o = resolveOptions({ preset: 'sd15' });
    expect(parameterCount(buildUnet(o))).toBe(859_520_964);
    expect(parameterCount(buildTextEncoder(o, SD15_PRESET.textEncoder.vocabSize!))).toBe(123_060_480);
  });
});
