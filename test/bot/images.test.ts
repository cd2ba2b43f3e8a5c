import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { enlargeSmallPng, previewFile, resultFiles } from '../../src/bot/delivery/images.ts';
import { estimateRemainingMs } from '../../src/bot/delivery/job-messages.ts';
import { readTextChunks, withTextChunks } from '../../src/engine/output/png.ts';

async function noisyPng(width: number, height: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

describe('images', () => {
  it('upscales the latent preview so that its longer side is 256 px', async () => {
    const preview = await previewFile({ width: 8, height: 12, data: new Uint8Array(8 * 12 * 3).fill(200) });
    const metadata = await sharp(preview.data).metadata();
    expect(preview.name).toBe('preview.webp');
    expect({ format: metadata.format, width: metadata.width, height: metadata.height }).toEqual({ format: 'webp', width: 171, height: 256 });
  });

  it('keeps PNGs that fit the upload limit', async () => {
    const png = await noisyPng(256, 256);
    const files = await resultFiles([png], 'imagine-1', 10 * 1024 * 1024);
    expect(files).toEqual([{ name: 'imagine-1.png', data: png }]);
  });

  it('delivers small results (a 64-px model) enlarged', async () => {
    const files = await resultFiles([await noisyPng(64, 64)], 'imagine-3', 10 * 1024 * 1024);
    const metadata = await sharp(files[0]!.data).metadata();
    expect({ name: files[0]!.name, width: metadata.width, height: metadata.height }).toEqual({ name: 'imagine-3.png', width: 256, height: 256 });
  });

  it('switches to WebP when the PNGs together exceed the limit', async () => {
    const pngs = await Promise.all([noisyPng(256, 256), noisyPng(256, 256)]);
    const limit = pngs[0]!.length;
    const files = await resultFiles(pngs, 'imagine-2', limit);
    expect(files.map((file) => file.name)).toEqual(['imagine-2-1.webp', 'imagine-2-2.webp']);
    expect((await sharp(files[0]!.data).metadata()).format).toBe('webp');
  });

  it('enlarges a small result (64×64) to 256 px with nearest-neighbour, keeping its parameters', async () => {
    const small = withTextChunks(await noisyPng(64, 48), { parameters: 'red apple\nSteps: 25, Seed: 1' });
    const enlarged = await enlargeSmallPng(small);
    expect(readTextChunks(enlarged)).toEqual({ parameters: 'red apple\nSteps: 25, Seed: 1' });
    const before = await sharp(small).raw().toBuffer();
    const { data, info } = await sharp(enlarged).raw().toBuffer({ resolveWithObject: true });
    expect({ width: info.width, height: info.height }).toEqual({ width: 256, height: 192 });
    // Every source pixel becomes a 4×4 block of exactly its colour.
    for (const [x, y] of [[0, 0], [63, 47], [17, 30]] as const) {
      const source = before.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3);
      for (const [dx, dy] of [[0, 0], [3, 3], [1, 2]] as const) {
        const at = ((y * 4 + dy) * 256 + x * 4 + dx) * 3;
        expect([...data.subarray(at, at + 3)]).toEqual([...source]);
      }
    }
  });

  it('passes images of 256 px or more through untouched', async () => {
    const png = await noisyPng(256, 128);
    expect(await enlargeSmallPng(png)).toBe(png);
  });

  it('estimates the time left from the average step', () => {
    expect(estimateRemainingMs({ step: 5, totalSteps: 20, elapsedMs: 1000 })).toBe(3000);
    expect(estimateRemainingMs({ step: 0, totalSteps: 20, elapsedMs: 0 })).toBe(0);
  });
});
