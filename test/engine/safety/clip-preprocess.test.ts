import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clipPixels, parseClipPreprocessConfig } from '../../../src/engine/safety/clip-preprocess.ts';

interface Cases {
  mean: number[];
  std: number[];
  cases: { width: number; height: number; size: number; crop: number; resample: number; rgb: string; pixels: string }[];
}

// CLIPImageProcessor transcribed with Pillow and numpy (test/fixtures/clip-preprocess/make.py).
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/clip-preprocess/cases.json', import.meta.url), 'utf8')) as Cases;

describe('clipPixels equals CLIPImageProcessor on Pillow and numpy', () => {
  for (const c of fixture.cases) {
    it(`${c.width}×${c.height}, shortest edge ${c.size}, crop ${c.crop}, resample ${c.resample}`, () => {
      const config = parseClipPreprocessConfig('preprocessor_config.json', {
        size: { shortest_edge: c.size },
        crop_size: { height: c.crop, width: c.crop },
        resample: c.resample,
        image_mean: fixture.mean,
        image_std: fixture.std,
        do_convert_rgb: true,
      });
      const image = { width: c.width, height: c.height, data: new Uint8Array(Buffer.from(c.rgb, 'base64')) };
      const expected = new Float32Array(new Uint8Array(Buffer.from(c.pixels, 'base64')).buffer);
      expect(Array.from(clipPixels(image, config))).toEqual(Array.from(expected));
    });
  }
});

describe('preprocessor_config.json', () => {
  it("reads SD 1.x's older layout (size and crop_size as numbers)", () => {
    const config = parseClipPreprocessConfig('p.json', {
      crop_size: 224,
      do_center_crop: true,
      do_normalize: true,
      do_resize: true,
      feature_extractor_type: 'CLIPFeatureExtractor',
      image_mean: [0.48145466, 0.4578275, 0.40821073],
      image_std: [0.26862954, 0.26130258, 0.27577711],
      resample: 3,
      size: 224,
    });
    expect(config).toMatchObject({ shortestEdge: 224, cropWidth: 224, cropHeight: 224, resample: 'bicubic' });
  });

  it('refuses what it cannot reproduce, naming the file and key', () => {
    expect(() => parseClipPreprocessConfig('/m/feature_extractor/preprocessor_config.json', { resample: 0 })).toThrow(
      '/m/feature_extractor/preprocessor_config.json: "resample" 0 is not supported (1 Lanczos, 2 bilinear or 3 bicubic)',
    );
    expect(() => parseClipPreprocessConfig('p.json', { size: 'big' })).toThrow('p.json: "size" must be a positive whole number, got "big"');
    expect(() => parseClipPreprocessConfig('p.json', { image_mean: [1, 2] })).toThrow(/"image_mean" must be three numbers/);
    expect(() => parseClipPreprocessConfig('p.json', { size: 100, crop_size: 200 })).toThrow(/larger than the resized shortest side/);
  });
});
