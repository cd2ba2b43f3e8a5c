import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { gridImage, gridLayout, previewFile, resultAttachments, resultFiles } from '../../src/bot/delivery/images.ts';
import { estimateRemainingMs } from '../../src/bot/delivery/job-messages.ts';

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
    const png = await noisyPng(64, 64);
    const files = await resultFiles([png], 'imagine-1', 10 * 1024 * 1024);
    expect(files).toEqual([{ name: 'imagine-1.png', data: png }]);
  });

  it('switches to WebP when the PNGs together exceed the limit', async () => {
    const pngs = await Promise.all([noisyPng(256, 256), noisyPng(256, 256)]);
    const limit = pngs[0]!.length;
    const files = await resultFiles(pngs, 'imagine-2', limit);
    expect(files.map((file) => file.name)).toEqual(['imagine-2-1.webp', 'imagine-2-2.webp']);
    expect((await sharp(files[0]!.data).metadata()).format).toBe('webp');
  });

  it('estimates the time left from the average step', () => {
    expect(estimateRemainingMs({ step: 5, totalSteps: 20, elapsedMs: 1000 })).toBe(3000);
    expect(estimateRemainingMs({ step: 0, totalSteps: 20, elapsedMs: 0 })).toBe(0);
  });
});

describe('result grid', () => {
  const solid = (r: number, g: number, b: number) => sharp({ create: { width: 16, height: 8, channels: 3, background: { r, g, b } } }).png().toBuffer();

  it('lays out 2 side by side and 3 or 4 in a 2×2 grid, each image in its own cell', async () => {
    expect([1, 2, 3, 4].map(gridLayout)).toEqual([
      { columns: 1, rows: 1 },
      { columns: 2, rows: 1 },
      { columns: 2, rows: 2 },
      { columns: 2, rows: 2 },
    ]);
    const colours: Array<[number, number, number]> = [[255, 0, 0], [0, 255, 0], [0, 0, 255]];
    const grid = await gridImage(await Promise.all(colours.map(([r, g, b]) => solid(r, g, b))));
    const { data, info } = await sharp(grid).raw().toBuffer({ resolveWithObject: true });
    expect({ width: info.width, height: info.height }).toEqual({ width: 32, height: 16 });
    const pixel = (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
    // Cell centres (WebP is lossy: near, not exact); the fourth cell stays black.
    const near = (actual: number[], expected: number[]) => actual.every((value, i) => Math.abs(value - expected[i]!) < 40);
    expect(near(pixel(8, 4), [255, 0, 0])).toBe(true);
    expect(near(pixel(24, 4), [0, 255, 0])).toBe(true);
    expect(near(pixel(8, 12), [0, 0, 255])).toBe(true);
    expect(near(pixel(24, 12), [0, 0, 0])).toBe(true);
  });

  it('puts the grid first, then every image, within the upload limit', async () => {
    const pngs = [await noisyPng(64, 64), await noisyPng(64, 64)];
    const { files, shownImage } = await resultAttachments(pngs, 'imagine-5', 10 * 1024 * 1024);
    expect(files.map((file) => file.name)).toEqual(['imagine-5-grid.webp', 'imagine-5-1.png', 'imagine-5-2.png']);
    expect(shownImage).toBe('imagine-5-grid.webp');
    const single = await resultAttachments(pngs.slice(0, 1), 'imagine-5', 10 * 1024 * 1024);
    expect(single).toEqual({ files: [{ name: 'imagine-5.png', data: pngs[0] }], shownImage: 'imagine-5.png' });
  });
});
