import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { float32ToHalf, halfToFloat32 } from '../../src/engine/model/float16.ts';
import { GraphBuilder } from '../../src/models/builder/graph.ts';
import { upsampleNearestTo } from '../../src/models/builder/layers.ts';
import { fillUniform, tensorSeed } from '../../src/models/builder/prng.ts';
import { SD15_PRESET, resolveOptions } from '../../src/models/builder/options.ts';
import { buildTextEncoder } from '../../src/models/builder/text-encoder.ts';
import { buildUnet } from '../../src/models/builder/unet.ts';
import { parameterCount, writeOnnxModel } from '../../src/models/builder/onnx-writer.ts';

describe('float16 (the engine conversion the builder writes weights and literals with)', () => {
  it('rounds to nearest even and handles the edges', () => {
    const input = Float32Array.from([0, -0, 1, -2, 65504, 65520, 1e6, -Infinity, NaN, 2 ** -24, 2 ** -26, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 0.1]);
    const bits = Array.from(float32ToHalf(input));
    expect(bits.slice(0, 13)).toEqual([0x0000, 0x8000, 0x3c00, 0xc000, 0x7bff, 0x7c00, 0x7c00, 0xfc00, 0x7e00, 0x0001, 0x0000, 0x3c00, 0x3c02]);
    expect(halfToFloat32(Uint16Array.from([bits[13]!]))[0]).toBeCloseTo(0.0999755859375, 10);
  });
});

/** torch's nearest source index for F.interpolate(size=...) (aten UpSample.h nearest_idx, float math). */
function torchNearestIndex(dst: number, inSize: number, outSize: number): number {
  if (outSize === inSize) return dst;
  if (outSize === 2 * inSize) return dst >> 1;
  return Math.min(Math.floor(Math.fround(dst * Math.fround(inSize / outSize))), inSize - 1);
}

describe('upsampleNearestTo', () => {
  it("resizes to the reference's height and width with torch's nearest indices", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'imagine-resize-'));
    try {
      const g = new GraphBuilder('resize', 'float32');
      const x = g.input('x', 'float32', [2, 3, 'h', 'w']);
      // Batch and channels of the reference differ on purpose: only its height and width count.
      const like = g.input('like', 'float32', [1, 1, 'H', 'W']);
      g.output(upsampleNearestTo(g, x, like, 'up'), 'y', 'float32', [2, 3, 'H', 'W']);
      await writeOnnxModel(g.finish(), join(dir, 'resize.onnx'), { seed: 0, externalData: false });
      const s = await ort.InferenceSession.create(join(dir, 'resize.onnx'));
      // [in, out]: the UNet's ceil(n / 2) -> n pairs, exact x2, and same size.
      const pairs = [[1, 1], [1, 2], [2, 3], [3, 5], [4, 7], [4, 8], [32, 63]] as const;
      for (const [h, H] of pairs) {
        for (const [w, W] of pairs) {
          const input = Float32Array.from({ length: 2 * 3 * h * w }, (_, i) => i);
          const out = await s.run({ x: new ort.Tensor('float32', input, [2, 3, h, w]), like: new ort.Tensor('float32', new Float32Array(H * W), [1, 1, H, W]) });
          expect(out.y!.dims).toEqual([2, 3, H, W]);
          const expected = Float32Array.from({ length: 2 * 3 * H * W }, (_, i) => {
            const plane = Math.floor(i / (H * W));
            const [y, xx] = [Math.floor((i % (H * W)) / W), i % W];
            return plane * h * w + torchNearestIndex(y, h, H) * w + torchNearestIndex(xx, w, W);
          });
          expect(out.y!.data, `${h}x${w} -> ${H}x${W}`).toEqual(expected);
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
