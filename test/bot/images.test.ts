import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { enlargeSmallPng, gridImage, gridLayout, previewFile, resultAttachments, resultFiles } from '../../src/bot/delivery/images.ts';
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
    // 256 px: large enough to be passed through as the engine made them.
    const pngs = [await noisyPng(256, 256), await noisyPng(256, 256)];
    const { files, shownImage } = await resultAttachments(pngs, 'imagine-5', 10 * 1024 * 1024);
    expect(files.map((file) => file.name)).toEqual(['imagine-5-grid.webp', 'imagine-5-1.png', 'imagine-5-2.png']);
    expect(shownImage).toBe('imagine-5-grid.webp');
    const single = await resultAttachments(pngs.slice(0, 1), 'imagine-5', 10 * 1024 * 1024);
    expect(single).toEqual({ files: [{ name: 'imagine-5.png', data: pngs[0] }], shownImage: 'imagine-5.png' });
  });

  it('builds the grid and the separate PNGs of small results (64 px) from the enlarged images', async () => {
    const parameters = { parameters: 'an emoji\nSteps: 25, Seed: 5' };
    const pngs = [withTextChunks(await solid(255, 0, 0), parameters), withTextChunks(await solid(0, 0, 255), parameters)];
    const { files } = await resultAttachments(pngs, 'imagine-5', 10 * 1024 * 1024);
    expect(files.map((file) => file.name)).toEqual(['imagine-5-grid.webp', 'imagine-5-1.png', 'imagine-5-2.png']);
    // 16×8 cells enlarged 16× (to 256 px on the long side), side by side.
    const grid = await sharp(files[0]!.data).metadata();
    expect({ width: grid.width, height: grid.height }).toEqual({ width: 512, height: 128 });
    for (const file of files.slice(1)) {
      const meta = await sharp(file.data).metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'png', width: 256, height: 128 });
      expect(readTextChunks(file.data)).toEqual(parameters);
    }
  });
});
